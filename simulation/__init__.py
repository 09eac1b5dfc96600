"""The clearance model: SimPy stages and resources, shifts, risk, e-lock transit, statistics.

Entry points (see each module's docstring and docs/simulation.md):

- ``simulation.scenario``: ``load_scenario(path) -> Scenario``, ``ScenarioError``,
  ``scenario_json_schema()``;
- ``simulation.runner``: ``run_replication(scenario, seed, *, on_transition=None)``,
  ``run(scenario, replications, seed, *, executor=None, progress=None) -> RunResult``;
- ``simulation.model``: ``ClearanceModel(env, scenario, rng, on_transition=...)`` with
  ``start()`` (batch arrivals) and ``submit(...)`` (live mode), ``Forced``;
- ``simulation.lifecycle``: ``Milestone`` and the order of transitions.

Inside: ``durations`` (distribution schemas), ``distributions`` (block samplers),
``arrivals`` (arrival plans), ``resources`` (server pools and shifts), ``transit`` (e-locks),
``runtime`` (the scenario compiled for the hot path), ``monitor``, ``stats``.
"""
