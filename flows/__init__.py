"""Prefect flows: they call tasks in order and compute nothing themselves."""
