"""Publish the `marts` schema as a read-only DuckDB file for analysts and BI tools.

The copy is built beside the target under a hidden name (ATTACH the warehouse read-only,
CREATE TABLE AS per mart, CHECKPOINT, close, fsync) and renamed over it, so a reader sees the
previous complete copy or the new one, never a partial one. Readers open the published file
only, and the writer touches it only through the rename, so analysts never block a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import warehouse
from orchestration.landing.atomic import atomic_target
from orchestration.settings import DataPaths

MARTS_SCHEMA = "marts"
READ_ONLY = 0o444


class NothingToPublish(RuntimeError):
    """The warehouse holds no complete build to publish (or another run's)."""


@dataclass(frozen=True)
class Published:
    path: Path
    # mart -> [rows, order-independent content hash]: equal builds publish equal digests.
    digests: dict[str, list]


def published_path(paths: DataPaths, store: str | None = None) -> Path:
    return paths.root / (f"marts_{store}.duckdb" if store else "marts.duckdb")


def mart_digests(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    marts = con.execute(
        "select table_name from information_schema.tables"
        " where table_catalog = current_database() and table_schema = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    digest = 'select count(*), coalesce(sum(hash(m)), 0) from {schema}."{mart}" m'
    return {
        mart: [int(v) for v in con.execute(digest.format(schema=MARTS_SCHEMA, mart=mart)).fetchone()]
        for (mart,) in marts
    }


def published_digests(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return mart_digests(con)


def _copy_marts(source: Path, target: Path, store: str | None) -> dict[str, list]:
    with duckdb.connect(str(target)) as con:
        con.execute(f"ATTACH '{source}' AS warehouse (READ_ONLY)")
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables"
                " where table_catalog = 'warehouse' and table_schema = ? order by table_name",
                [MARTS_SCHEMA],
            ).fetchall()
        ]
        if not marts:
            raise NothingToPublish(f"{source} has no {MARTS_SCHEMA} schema")
        con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
        for mart in marts:
            where = " where store_id = $store" if store else ""
            con.execute(
                f'CREATE TABLE {MARTS_SCHEMA}."{mart}" AS SELECT * FROM warehouse.{MARTS_SCHEMA}."{mart}"{where}',
                {"store": store} if store else {},
            )
        con.execute("DETACH warehouse")
        con.execute("CHECKPOINT")
        return mart_digests(con)


def publish_marts(paths: DataPaths, store: str | None = None, built_by_run: str | None = None) -> Published:
    """Copy the marts (of one store, if given) to their published file, atomically.

    With `built_by_run`, publish only if the warehouse holds that run's completed dbt build.
    """
    target = published_path(paths, store)
    with warehouse.writer(paths):
        builder = warehouse.built_by(paths)
        if builder is None or (built_by_run and builder != built_by_run):
            raise NothingToPublish(f"the warehouse holds no completed build of run {built_by_run or 'any'}")
        with atomic_target(target) as tmp:
            tmp.unlink(missing_ok=True)  # a crashed publish may have left one; DuckDB would open it
            digests = _copy_marts(paths.warehouse, tmp, store)
        target.chmod(READ_ONLY)
    return Published(target, digests)
