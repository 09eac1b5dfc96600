"""danchuang's transports and persistence: the HTTP service, the CLI, the dashboard."""
