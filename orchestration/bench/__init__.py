"""The benchmark of issue 7: every stage timed against a DuckDB floor and a pandas peer."""
