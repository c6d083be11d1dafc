"""Prefect tasks: one-line wrappers over `tokfrag.stages` (Prefect lives here and in flows/)."""
