"""Publish the `marts` schema as a read-only DuckDB file for analysts and BI tools.

The copy is built beside the target under a hidden name (ATTACH the warehouse read-only,
CREATE TABLE AS per mart, CHECKPOINT, close, fsync) and renamed over it, so a reader sees the
previous complete copy or the new one, never a partial one. Readers open the published file
only, and the writer touches it only through the rename, so analysts never block a run.

The file a publish replaces is kept (a hard link, no copy) under `published_history/`, the last
`COMMERCE_PUBLISH_KEEP` (3) of each published file; `rollback` renames the newest back over it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import warehouse
from orchestration.lib.atomic_files import atomic_target, fsync_dir
from orchestration.settings import SPARK_TARGET, DataPaths, dbt_target

MARTS_SCHEMA = "marts"
# In the published file the marts sit in its default schema: the file's catalog is named `marts`,
# so both `from kpis_daily` and `from marts.kpis_daily` find them in any DuckDB client.
PUBLISHED_SCHEMA = "main"
READ_ONLY = 0o444
# How many files a publish replaced are kept, per published file, for `publish --rollback`.
KEEP_ENV = "COMMERCE_PUBLISH_KEEP"
DEFAULT_KEEP = 3


class NothingToPublish(RuntimeError):
    """The warehouse holds no complete build to publish (or another run's)."""


@dataclass(frozen=True)
class Published:
    path: Path
    # mart -> [rows, order-independent content hash]: equal builds publish equal digests.
    digests: dict[str, list]


def published_path(paths: DataPaths, store: str | None = None) -> Path:
    return paths.root / (f"marts_{store}.duckdb" if store else "marts.duckdb")


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables"
            " where table_catalog = ? and table_schema = ? order by table_name",
            [catalog, schema],
        ).fetchall()
    ]


def published_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The marts of the published file `con` has open."""
    [(catalog,)] = con.execute("select current_database()").fetchall()
    return _tables(con, catalog, PUBLISHED_SCHEMA)


def mart_digests(con: duckdb.DuckDBPyConnection, schema: str = PUBLISHED_SCHEMA) -> dict[str, list]:
    """mart -> [rows, content hash] of the marts in `schema` of the file `con` has open (the
    published file's, or the warehouse's `marts`)."""
    [(catalog,)] = con.execute("select current_database()").fetchall()
    digest = 'select count(*), coalesce(sum(hash(m)), 0) from "{schema}"."{mart}" m'
    return {
        mart: [int(v) for v in con.execute(digest.format(schema=schema, mart=mart)).fetchone()]
        for mart in _tables(con, catalog, schema)
    }


def published_digests(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return mart_digests(con)


def _write_marts(
    con: duckdb.DuckDBPyConnection, target: Path, sources: dict[str, tuple[str, bool]], store: str | None
) -> dict[str, list]:
    """Each mart into the published file from its source relation; a tenant mart (one with a
    store_id: every mart but the calendar, which holds no tenant's rows) only `store`'s rows when
    one is given. Returns the marts' digests."""
    con.execute(f"ATTACH '{target}' AS published")
    con.execute("USE published")
    for mart, (relation, is_tenant) in sources.items():
        filtered = store is not None and is_tenant
        con.execute(
            f'CREATE TABLE "{mart}" AS SELECT * FROM {relation}' + (" where store_id = $store" if filtered else ""),
            {"store": store} if filtered else {},
        )
    digests = mart_digests(con)
    con.execute("CHECKPOINT published")
    con.execute("USE memory")
    con.execute("DETACH published")
    return digests


def _copy_marts(source: Path, target: Path, store: str | None) -> dict[str, list]:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{source}' AS warehouse (READ_ONLY)")
        marts = _tables(con, "warehouse", MARTS_SCHEMA)
        if not marts:
            raise NothingToPublish(f"{source} has no {MARTS_SCHEMA} schema")
        tenant_marts = {
            table
            for (table,) in con.execute(
                "SELECT table_name FROM duckdb_columns() WHERE database_name = 'warehouse' "
                "AND schema_name = ? AND column_name = 'store_id'",
                [MARTS_SCHEMA],
            ).fetchall()
        }
        sources = {mart: (f'warehouse.{MARTS_SCHEMA}."{mart}"', mart in tenant_marts) for mart in marts}
        return _write_marts(con, target, sources, store)


def _copy_spark_marts(paths: DataPaths, target: Path, store: str | None) -> dict[str, list]:
    """The marts of the Spark target's build: the models of the marts schema that Spark built, read
    from their Parquet folders, each typed by its contract. The contracts are those of the build's
    own manifest, parsed for Spark; the checkout's (target/dagster/) when the build left none: a
    checkout's manifest is prepared again whenever the project changes, a build's is as it built."""
    from orchestration.dbt_project import dbt_project
    from orchestration.spark_warehouse import built_models, typed_relation_sql

    manifest = warehouse.built_manifest(paths) or dbt_project.manifest_path
    marts = built_models(paths, manifest, MARTS_SCHEMA)
    if not marts:
        raise NothingToPublish(f"{paths.spark_warehouse} has no {MARTS_SCHEMA} tables")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")  # Spark's instants are UTC; local dates are columns already
        sources = {
            mart: (f"({typed_relation_sql(paths, MARTS_SCHEMA, mart, columns)})", "store_id" in columns)
            for mart, columns in marts.items()
        }
        return _write_marts(con, target, sources, store)


def publish_marts(
    paths: DataPaths, store: str | None = None, built_by_run: str | None = None, log: logging.Logger | None = None
) -> Published:
    """Copy the marts (of one store, if given) to their published file, atomically, from the
    warehouse of this process's dbt target (DuckDB's file, or Spark's Parquet tables).

    With `built_by_run`, publish only if the warehouse holds that run's completed dbt build; a
    build of the other engine is never published.
    """
    target = published_path(paths, store)
    engine = dbt_target()
    with warehouse.writer(paths, log):
        builder = warehouse.built_by(paths)
        if builder is None or (built_by_run and builder != built_by_run):
            raise NothingToPublish(f"the warehouse holds no completed build of run {built_by_run or 'any'}")
        built_on = warehouse.built_target(paths)
        if (built_on == SPARK_TARGET) != (engine == SPARK_TARGET):
            raise NothingToPublish(
                f"the last completed build is of DBT_TARGET={built_on}, not of {engine}: build on {engine} first"
            )
        with atomic_target(target) as tmp:
            tmp.unlink(missing_ok=True)  # a crashed publish may have left one; DuckDB would open it
            if engine == SPARK_TARGET:
                digests = _copy_spark_marts(paths, tmp, store)
            else:
                digests = _copy_marts(paths.warehouse, tmp, store)
            _keep_previous(paths, target)
        target.chmod(READ_ONLY)
    return Published(target, digests)


def kept_count() -> int:
    keep = int(os.environ.get(KEEP_ENV, DEFAULT_KEEP))
    if keep < 0:
        raise ValueError(f"{KEEP_ENV} must be 0 or more, not {keep}")
    return keep


def history_folder(paths: DataPaths, target: Path) -> Path:
    return paths.root / "published_history" / target.stem


def kept_files(paths: DataPaths, store: str | None = None) -> list[Path]:
    """The earlier published files kept for rollback, oldest first."""
    return sorted(history_folder(paths, published_path(paths, store)).glob("*.duckdb"))


def _keep_previous(paths: DataPaths, target: Path) -> None:
    """Keep the file about to be replaced: a hard link shares its bytes, so a reader holding it
    open and the copy kept are the same file. Then drop the oldest beyond the kept count."""
    keep = kept_count()
    folder = history_folder(paths, target)
    kept = sorted(folder.glob("*.duckdb"))
    if target.exists() and keep:
        folder.mkdir(parents=True, exist_ok=True)
        number = int(kept[-1].stem) + 1 if kept else 1
        version = folder / f"{number:06d}.duckdb"
        os.link(target, version)
        kept.append(version)
    for old in kept[: max(len(kept) - keep, 0)]:
        old.unlink()
    if folder.exists():
        fsync_dir(folder)


def drop_kept(paths: DataPaths, store: str | None = None) -> None:
    """Forget every kept publish: after an erasure or a purge they hold what was removed."""
    for kept in kept_files(paths, store):
        kept.unlink()


def rollback(paths: DataPaths, store: str | None = None, log: logging.Logger | None = None) -> Path:
    """Put the newest kept file back in place of the published one, by one atomic rename (a reader
    of the current file keeps reading it); the file rolled back to leaves the history. Returns
    the kept file restored."""
    target = published_path(paths, store)
    with warehouse.writer(paths, log):
        kept = kept_files(paths, store)
        if not kept:
            raise NothingToPublish(f"no earlier publish of {target.name} is kept in {history_folder(paths, target)}")
        kept[-1].replace(target)
        fsync_dir(target.parent)
        fsync_dir(kept[-1].parent)
    return kept[-1]
