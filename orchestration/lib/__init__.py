"""Helpers every part of the pipeline shares: atomic file writes, file locks, SQL quoting,
content hashes, the Parquet write options and a scratch DuckDB. Nothing here knows a source."""
