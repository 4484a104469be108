"""dbt-duckdb plugins, referenced by module name in profiles.yml."""
