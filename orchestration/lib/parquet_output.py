"""How every Parquet file the pipeline writes is written (DuckDB `COPY ... TO` options)."""

from __future__ import annotations

# DuckDB parallelises scans per row group; its own default row-group size keeps both cores busy
# on a daily partition while letting min/max statistics prune by time.
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880"
