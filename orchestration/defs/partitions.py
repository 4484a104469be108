"""The daily partitioning shared by landing and the models: one partition per UTC event date."""

from __future__ import annotations

import os

import dagster as dg

# Partitions start early enough for any backfill of the shop's history; set the variable to
# move it (tests and benchmarks generate data in their own date ranges).
PARTITIONS_START = os.environ.get("COMMERCE_PARTITIONS_START", "2025-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC", end_offset=1)
