"""The clearance model: SimPy stages and resources, shifts, risk, e-lock transit, statistics.

Entry points (see each module's docstring and docs/simulation.md):

- ``simulation.scenario``: ``load_scenario(path) -> Scenario``, ``ScenarioError``,
  ``scenario_json_schema()``;
- ``simulation.plan``: ``plan_run(scenario, horizon_hours=None) -> RunPlan`` (the scenario as
  run and its traces, read once);
- ``simulation.runner``: ``run_replication(plan_or_scenario, seed, *, on_transition=None)``,
  ``run(scenario, replications, seed, *, executor=None, progress=None) -> RunResult``;
- ``simulation.model``: ``ClearanceModel(env, scenario, rng, traces=..., target_cutoff=...,
  on_transition=...)`` with ``start()`` (batch arrivals) and ``submit(...)`` (live mode);
- ``simulation.routing``: ``draw_path`` (risk routing, for the model and the live engine),
  ``Forced``;
- ``simulation.lifecycle``: ``Milestone`` and the order of transitions.

Inside: ``durations`` (distribution schemas), ``distributions`` (block samplers),
``arrivals`` (arrival plans), ``resources`` (server pools and shifts), ``transit`` (e-locks),
``site`` (a scenario's pools, stages and corridors), ``runtime`` (flows compiled for the hot
path, ``Lodgement``), ``monitor``, ``stats``.
"""
