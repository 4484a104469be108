"""Hands the privacy settings to every dbt cursor as DuckDB variables, so none is rendered into
compiled SQL, logs or run results. Variables are per DuckDB connection, and each dbt thread works
on a cursor of its own, hence the hook.

- `pii_hmac_key`: the pseudonymisation key (the `pseudonymize` macro reads it).
- `pii_retention_days`, `pii_purged_as_of`, `unconsented_ids_kept_since`: the retention state
  (orchestration/governance/retention_state.py; Spark reads the same from a file). With them,
  `pii_retained_since` tells which rows the purge has emptied: retention-aware tests allow NULLs
  there, and the daily marts keep the rows they built for those days instead of recomputing them
  from emptied inputs. The kept-since date uses the project's `lookback_days`, not a run's own: an
  erasure's rebuild stretches its lookback."""

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.governance.retention_state import retention_state
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths


class Plugin(BasePlugin):
    def initialize(self, plugin_config) -> None:
        # The dbt process's DATA_DIR, which the Dagster build sets for it (defs/dbt.py).
        self.paths = DataPaths.from_env()
        self.state = retention_state(self.paths)

    def configure_cursor(self, cursor) -> None:
        cursor.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(self.paths)])
        classes = list(self.state.retention_days)
        cursor.execute(
            "SET VARIABLE pii_retention_days = map(?::VARCHAR[], ?::INTEGER[])",
            [classes, [self.state.retention_days[c] for c in classes]],
        )
        cursor.execute("SET VARIABLE pii_purged_as_of = ?::DATE", [self.state.purged_as_of])
        cursor.execute("SET VARIABLE unconsented_ids_kept_since = ?::DATE", [self.state.unconsented_ids_kept_since])
