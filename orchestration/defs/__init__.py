"""Dagster definitions, one module per concern; `orchestration.definitions` gathers them."""
