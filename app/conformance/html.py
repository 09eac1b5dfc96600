"""A self-contained HTML page of one conformance run (no scripts, no external files)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, select_autoescape

from app.conformance.offline import CaseResult, Outcome
from app.conformance.offline.check import describe
from app.conformance.results import Run

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>danchuang conformance report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}.passed{color:#176f2c}.failed{color:#b00020;font-weight:bold}
.skipped{color:#777}pre{white-space:pre-wrap;margin:0;font-size:.85em}
</style></head><body>
<h1>danchuang conformance report</h1>
<p><strong>{{ run.verdict.value }}</strong>:
{{ passed }} passed, {{ failed }} failed ({{ failed_mandatory }} mandatory),
{{ skipped }} skipped ({{ not_done }} mandatory cases not done),
{{ run.failed_unmatched }} invalid loose set(s).</p>
{% for label, results in groups %}
<h2>{{ label }}</h2>
<table><tr><th>case</th><th>title</th><th>mandatory</th><th>result</th><th>details</th></tr>
{% for r in results %}<tr>
<td>{{ r.case.id }}</td><td>{{ r.case.title }}<br><small>{{ r.case.title_zh }}</small></td>
<td>{{ "yes" if r.case.mandatory else "no" }}</td>
<td class="{{ r.outcome.value }}">{{ r.outcome.value }}</td>
<td><pre>{{ details(r) }}</pre></td></tr>
{% endfor %}</table>
{% endfor %}
{% if run.unmatched %}<h2>Files matched to no case</h2>
<table><tr><th>files</th><th>result</th><th>why</th><th>findings</th></tr>
{% for u in run.unmatched %}<tr><td>{{ u.files|join(", ") }}</td>
<td class="{{ "failed" if u.failed else "skipped" }}">{{ "failed" if u.failed else "skipped" }}</td>
<td>{{ u.reason }}</td>
<td><pre>{{ findings_text(u.findings) }}</pre></td></tr>{% endfor %}
</table>{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _details(result: CaseResult) -> str:
    lines = [*result.problems, *result.notes]
    if result.outcome is not Outcome.FAILED:
        lines += [describe(f) for f in result.findings]
    return "\n".join(lines)


def render_html(run: Run) -> str:
    template = _ENV.from_string(_TEMPLATE)
    return template.render(
        run=run,
        groups=list(run.by_group()),
        passed=run.count(Outcome.PASSED),
        failed=run.count(Outcome.FAILED),
        failed_mandatory=run.count(Outcome.FAILED, mandatory=True),
        skipped=run.count(Outcome.SKIPPED),
        not_done=run.mandatory_not_done,
        details=_details,
        findings_text=lambda found: "\n".join(describe(f) for f in found),
    )


def write_html(run: Run, path: Path) -> None:
    path.write_text(render_html(run), encoding="utf-8")
