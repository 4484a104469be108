"""Hands the privacy settings to every dbt cursor as DuckDB variables, so none is rendered into
compiled SQL, logs or run results. Variables are per DuckDB connection, and each dbt thread works
on a cursor of its own, hence the hook.

- `pii_hmac_key`: the pseudonymisation key (the `pseudonymize` macro reads it).
- `pii_retention_days`: class -> days kept, from `PII_RETENTION_DAYS`, the one definition of the
  policy (NULL: kept indefinitely).
- `pii_purged_as_of`: the reference date of the last retention purge that cleared anything (from the
  audit table `purge_log`, or the checkpoint of one stopped halfway), NULL before any purge. With
  the two above, `pii_retained_since` tells which rows the purge has emptied: retention-aware tests
  allow NULLs there, and the daily marts keep the rows they built for those days instead of
  recomputing them from emptied inputs.
- `unconsented_ids_kept_since`: the first raw date whose unconsented events that purge left their
  clear ids (`unconsented.closed_before`, with the project's `lookback_days`, not a run's own:
  an erasure's rebuild stretches its lookback), NULL before any purge."""

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.contracts import PII_RETENTION_DAYS
from orchestration.governance.audit import purged_as_of
from orchestration.governance.unconsented import closed_before
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths


class Plugin(BasePlugin):
    def initialize(self, plugin_config) -> None:
        # The dbt process's DATA_DIR, which the Dagster build sets for it (defs/dbt.py).
        self.paths = DataPaths.from_env()
        self.purged_as_of = purged_as_of(self.paths)

    def configure_cursor(self, cursor) -> None:
        cursor.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(self.paths)])
        classes = list(PII_RETENTION_DAYS)
        cursor.execute(
            "SET VARIABLE pii_retention_days = map(?::VARCHAR[], ?::INTEGER[])",
            [classes, [PII_RETENTION_DAYS[c] for c in classes]],
        )
        cursor.execute("SET VARIABLE pii_purged_as_of = ?::DATE", [self.purged_as_of])
        kept_since = closed_before(self.purged_as_of) if self.purged_as_of else None
        cursor.execute("SET VARIABLE unconsented_ids_kept_since = ?::DATE", [kept_since])
