"""Hands the pseudonymisation key to every dbt cursor as a DuckDB variable, so the key is never
rendered into compiled SQL, logs or run results (the `pseudonymize` macro reads it). Variables
are per DuckDB connection, and each dbt thread works on a cursor of its own, hence the hook."""

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.privacy import hmac_key


class Plugin(BasePlugin):
    def configure_cursor(self, cursor) -> None:
        cursor.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key()])
