"""The API's routers: agent sessions, their messages and memory, multi-participant sessions,
and the system routes (health, metrics, stats)."""
