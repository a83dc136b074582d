"""sgfdw: run foreign data wrappers written in Python (Multicorn2-compatible) in PostgreSQL."""
