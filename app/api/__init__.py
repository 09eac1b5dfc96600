"""The HTTP API: one module per resource under ``routes/``, dependencies in ``deps``."""
