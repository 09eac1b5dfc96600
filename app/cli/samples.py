"""``danchuang samples REGIME --out DIR [--direction import|export] [--seed N] [--count N]
[--for-demo]``.

Writes complete, mutually consistent valid sets (one folder per set) from
``declarations.samples``; the same seed always writes the same files. With ``--for-demo`` the
enterprises are those of ``danchuang seed-demo`` (``app.demo``) instead of invented ones, so
each demo key is accepted for its own document (docs/quickstart.md).

Exit codes: 0 written, 2 usage error (unknown regime, a direction the regime does not have, an
output path that is not a writable folder), each with a one-line message on stderr.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from app.cli import cli, usage_error
from declarations import Direction, Regime
from declarations.sample_export_followups import write_export_after
from declarations.sample_followups import write_after
from declarations.samples import generate_sets


class DirectionOption(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


@cli.command()
def samples(  # noqa: PLR0917  # Typer maps each parameter to an option
    regime: str = typer.Argument(..., help="Supervision code: 9610, 1210, 9710 or 9810."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the sets into."),
    direction: DirectionOption | None = typer.Option(
        None, "--direction", "-d", help="import or export (9610/1210; default import)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed, the same files."),
    count: int = typer.Option(1, "--count", "-n", min=1, max=10_000, help="Number of sets."),
    for_demo: bool = typer.Option(
        False,
        "--for-demo",
        help="Use the enterprises of `danchuang seed-demo` (their codes in every party field "
        "and copCode), so that each demo key may send its own document.",
    ),
    after: bool = typer.Option(
        False,
        "--after",
        help="Also write, under each set's after/, what may follow its 清单. Import: the "
        "carrier's delivery record (CEB513), the site's entry record (CEB711, 9610), a "
        "cancellation (CEB623), a return of one item (CEB625), the tax bill (CEB816) and its "
        "status (CEB818). Export: the arrival (CEB507), master waybill (CEB607) and departure "
        "(CEB509) records, a cancellation (CEB605), a return of one item (CEB213) and its tally "
        "(CEB215), a summary application (CEB701). They name the sample 清单's invtNo; live, "
        "name the one customs gives.",
    ),
) -> None:
    """Write valid sample sets (order, payment, waybill, 清单) for a regime."""
    try:
        chosen = Regime(regime.strip())
    except ValueError:
        known = ", ".join(r.value for r in Regime)
        raise usage_error("samples", f"unknown regime {regime!r} (known: {known})") from None
    if direction is None:
        way = Direction.IMPORT if Direction.IMPORT in chosen.directions else Direction.EXPORT
    else:
        way = Direction(direction.value)
    if way not in chosen.directions:
        raise usage_error(
            "samples", f"regime {chosen.value} has no {way.value} direction (export only)"
        )
    if out.exists() and not out.is_dir():
        raise usage_error("samples", f"--out {out} exists and is not a folder")
    parties = None
    if for_demo:
        from app.demo import demo_parties  # the database layer, only when asked for

        parties = demo_parties(way.value)
    sets = generate_sets(chosen, way, seed=seed, count=count, parties=parties)
    try:
        folders = [s.write(out) for s in sets]
        if after:
            for sample, folder in zip(sets, folders, strict=True):
                write = write_after if way is Direction.IMPORT else write_export_after
                write(sample, folder / "after")
    except OSError as error:
        raise usage_error("samples", f"cannot write to {out}: {error.strerror or error}") from None
    who = " for the demo enterprises of seed-demo" if for_demo else ""
    typer.echo(f"wrote {len(folders)} {chosen.value} {way.value} set(s){who} to {out}")
