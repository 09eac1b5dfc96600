"""The transport side of conformance testing: the live check over HTTP and the report writers
(JUnit XML for an integrator's CI, a self-contained HTML page for people). The offline check
and the catalogue are in ``app.conformance.offline``."""
