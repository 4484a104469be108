"""What every dbt build is told about the retention purge, on either engine: the days each PII
class is kept (`PII_RETENTION_DAYS`, the one definition of the policy), the reference date of the
last purge that cleared anything (or of one stopped halfway; NULL before any), and the first raw date
whose unconsented events that purge left their clear ids. From them `pii_retained_since` tells which
rows a purge has emptied, and `closed_by_purge` which days of the daily marts are closed.

DuckDB gets them as session variables (orchestration/dbt_plugins/pii_key.py); Spark reads them from
`$DATA_DIR/spark/retention_state.json`, written before each of its builds (macros/pii_retained_since.sql)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.contracts import PII_RETENTION_DAYS
from orchestration.governance.audit import purged_as_of
from orchestration.governance.unconsented import closed_before
from orchestration.lib.atomic_files import write_text_atomic
from orchestration.privacy import share_key_with_spark
from orchestration.settings import DataPaths


@dataclass(frozen=True)
class RetentionState:
    purged_as_of: date | None
    unconsented_ids_kept_since: date | None
    retention_days: dict[str, int | None]


def retention_state(paths: DataPaths) -> RetentionState:
    purged = purged_as_of(paths)
    return RetentionState(purged, closed_before(purged) if purged else None, dict(PII_RETENTION_DAYS))


def spark_state_file(paths: DataPaths) -> Path:
    return paths.root / "spark" / "retention_state.json"


def share_with_spark(paths: DataPaths) -> None:
    """Before a Spark build: the pseudonymisation key (a file its SQL reads) and the retention state,
    as one JSON line Spark's `json.` reader takes (one flat field per class)."""
    share_key_with_spark(paths)
    state = retention_state(paths)
    line = {
        "purged_as_of": state.purged_as_of and state.purged_as_of.isoformat(),
        "unconsented_ids_kept_since": state.unconsented_ids_kept_since and state.unconsented_ids_kept_since.isoformat(),
        **{f"retention_days_{pii}": days for pii, days in state.retention_days.items()},
    }
    write_text_atomic(spark_state_file(paths), json.dumps(line) + "\n")
