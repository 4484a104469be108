"""`commerce-analytics`: the one command-line entry point."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta

from orchestration.bench.cli import add_bench_command
from orchestration.governance.cli import add_governance_commands
from orchestration.ltv.cli import add_ltv_command
from orchestration.serve.cli import add_serve_commands
from orchestration.settings import DataPaths, on_spark

VERBOSE_HELP = "show errors with their tracebacks on the terminal (they always go to the run log)"


def _add_generator_options(parser: argparse.ArgumentParser) -> None:
    from orchestration.generator import GeneratorConfig

    defaults = GeneratorConfig()
    parser.add_argument("--days", type=int, default=defaults.days, help="days of history (default %(default)s)")
    parser.add_argument(
        "--start-date", type=date.fromisoformat, default=defaults.start_date, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--stores", type=int, default=defaults.stores, help="stores, 1-6 (default %(default)s)")
    parser.add_argument("--events-per-day", type=int, default=defaults.events_per_day, help="clickstream volume")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default %(default)s)")
    parser.add_argument("--clean", action="store_true", help="generate without any dirt")


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    parser.add_argument("--lookback-days", type=int, help="days incremental models rebuild before the window")


def _generator_config(args: argparse.Namespace):
    from orchestration.generator import GeneratorConfig

    return GeneratorConfig(
        days=args.days,
        start_date=args.start_date,
        stores=args.stores,
        events_per_day=args.events_per_day,
        seed=args.seed,
        clean=args.clean,
    )


def _generate(paths: DataPaths, config) -> dict:
    from orchestration.generator import generate
    from orchestration.progress import Progress

    progress = Progress("generate", total=0)
    try:
        return generate(paths, config, progress)
    finally:
        progress.close()


def cmd_generate(args: argparse.Namespace, paths: DataPaths) -> int:
    truth = _generate(paths, _generator_config(args))
    files = truth["files"]
    print(f"wrote {len(files)} extracts ({sum(files.values()):,} rows) to {paths.inbox}")
    return 0


def _print_landing_summary(paths: DataPaths, sources: list[str]) -> None:
    from orchestration.landing import manifest

    header = f"{'source':<22}{'extracts':>9}{'received':>12}{'landed':>12}{'quarantined':>12}{'duplicates':>11}"
    print(header)
    for source in sources:
        rs = manifest.records(paths, source)
        print(
            f"{source:<22}{len(rs):>9}{sum(r.rows_received for r in rs):>12,}{sum(r.rows_landed for r in rs):>12,}"
            f"{sum(r.rows_quarantined for r in rs):>12,}{sum(r.duplicates_dropped for r in rs):>11,}"
        )


def _print_failure(paths: DataPaths, command: str, result) -> None:
    """The last words of a failed run: what failed and where the details are, on stderr."""
    from orchestration.alerts import alert_path, summary
    from orchestration.json_logs import log_file
    from orchestration.publish import published_path

    alert = alert_path(paths, result.run_id)  # the runner wrote it
    lines = [
        f"commerce-analytics {command} failed: {summary(json.loads(alert.read_text(encoding='utf-8')))}",
        f"  the published marts are unchanged: {published_path(paths)}",
        f"  details: {alert} (alert), {log_file(paths)} (run log, with tracebacks)",
    ]
    print("\n".join(lines), file=sys.stderr)


def _land(paths: DataPaths, first: date, last: date, verbose: bool = False) -> int:
    from orchestration.contracts import load_contracts
    from orchestration.runner import run_job

    result = run_job(paths, "land_all", first, last, verbose=verbose)
    _print_landing_summary(paths, list(load_contracts()))
    if not result.success:
        _print_failure(paths, "land", result)
        return 1
    print(f"raw Parquet: {paths.raw}\nquarantine:  {paths.quarantine}\nmanifest:    {paths.manifest}")
    return 0


def _print_kpis(paths: DataPaths, day: date) -> None:
    """The day's KPIs per store, read from the published marts as an analyst would."""
    from orchestration import analyst
    from orchestration.publish import published_marts

    with analyst.connect(paths) as con:
        marts = published_marts(con)
    # kpis_daily carries the clickstream KPIs too; revenue_daily is the fallback of older builds.
    sessions = ", sessions, round(conversion_rate, 4) as conversion_rate" if "kpis_daily" in marts else ""
    mart = "kpis_daily" if "kpis_daily" in marts else "revenue_daily"
    print(f"\nKPIs of {day} (store-local date) from {mart}:")
    analyst.run_sql(
        paths,
        f"select store_id, currency, orders, gmv, net_revenue, gmv_usd, net_revenue_usd{sessions}"
        f" from {mart} where date = '{day}' order by store_id",
    )


def _check_target() -> None:
    """The dbt target must be one of profiles.yml's; on Spark a run starts several dbt commands
    (each its own JVM), so the catalog must outlive one: the Derby metastore, not the JVM's."""
    from orchestration.dbt_project import SPARK_CATALOG_ENV

    if on_spark() and os.environ.get(SPARK_CATALOG_ENV) == "in-memory":
        raise ValueError(
            f"{SPARK_CATALOG_ENV}=in-memory: the catalog would die with the first dbt command;"
            f" unset it (default hive) for the pipeline on Spark (docs/spark.md)"
        )


def _build(paths: DataPaths, first: date, last: date, dbt_config: dict, kpi_day: date, verbose: bool = False) -> int:
    _check_target()
    from orchestration.contracts import load_contracts
    from orchestration.dbt_project import prepare_manifest
    from orchestration.json_logs import log_file
    from orchestration.publish import published_path
    from orchestration.runner import run_job

    # The models as they are now, so the assets match what dbt builds.
    prepare_manifest(paths)
    result = run_job(paths, "build_all", first, last, dbt_config, verbose=verbose)
    _print_landing_summary(paths, list(load_contracts()))
    if not result.success:
        _print_failure(paths, "build", result)
        return 1
    _print_kpis(paths, kpi_day)
    where = {
        "raw Parquet": paths.raw,
        "quarantine": paths.quarantine,
        "warehouse": paths.spark_warehouse if on_spark() else paths.warehouse,
        "published marts": f"{published_path(paths)} (query it: commerce-analytics sql / export)",
        "run logs": log_file(paths),
    }
    print("\n" + "\n".join(f"{name + ':':<17}{place}" for name, place in where.items()))
    return 0


def _dbt_config(args: argparse.Namespace) -> dict:
    config = {"full_refresh": args.full_refresh}
    if args.lookback_days is not None:
        config["lookback_days"] = args.lookback_days
    return config


def cmd_land(args: argparse.Namespace, paths: DataPaths) -> int:
    today = datetime.now(UTC).date()
    return _land(paths, args.date or today, args.date or today, args.verbose)


def cmd_build(args: argparse.Namespace, paths: DataPaths) -> int:
    first = args.from_date or datetime.now(UTC).date()
    last = args.to_date or first
    return _build(paths, first, last, _dbt_config(args), last, args.verbose)


def cmd_run(args: argparse.Namespace, paths: DataPaths) -> int:
    _check_target()  # before generating anything
    config = _generator_config(args)
    truth = _generate(paths, config)
    print(f"generated {len(truth['files'])} extracts into {paths.inbox}")
    last = config.start_date + timedelta(days=config.days - 1)
    return _build(paths, config.start_date, last, _dbt_config(args), last, args.verbose)


def cmd_publish(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.publish import kept_files, publish_marts, published_path, rollback

    if args.rollback:
        restored = rollback(paths, store=args.store)
        print(
            f"rolled {published_path(paths, args.store)} back to the publish it replaced ({restored.name});"
            f" {len(kept_files(paths, args.store))} earlier kept"
        )
        return 0
    published = publish_marts(paths, store=args.store)
    rows = sum(rows for rows, _ in published.digests.values())
    print(f"published {len(published.digests)} marts ({rows:,} rows) to {published.path}")
    return 0


def cmd_backup(args: argparse.Namespace, paths: DataPaths) -> int:
    from pathlib import Path

    from orchestration import backup

    target = Path(args.target) if args.target else backup.target_from_env()
    keep = args.keep if args.keep is not None else backup.keep_from_env()
    snap = backup.backup(paths, target, keep)
    print(
        f"snapshot {snap.snapshot_id}: {snap.files:,} files ({snap.bytes:,} bytes), {snap.new_objects:,} new"
        f" ({snap.new_bytes:,} bytes copied) in {target}; {len(backup.snapshots(target))} kept"
        + (f", {len(snap.removed_snapshots)} removed" if snap.removed_snapshots else "")
    )
    return 0


def cmd_restore(args: argparse.Namespace, paths: DataPaths) -> int:
    from pathlib import Path

    from orchestration import backup

    restored = backup.restore(Path(args.source), paths, args.snapshot)
    print(
        f"restored snapshot {restored['snapshot_id']} ({restored['files']:,} files) into {paths.root};"
        " rebuild the warehouse with `commerce-analytics build --from FIRST --to LAST --full-refresh`"
    )
    return 0


def cmd_replay(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.replay import replay

    result = replay(paths, args.source, args.reason, args.extract, args.dry_run)
    failing = ", ".join(f"{reason} {rows}" for reason, rows in result.still_failing.items()) or "none"
    print(
        f"{args.source}: {result.passing} of {result.chosen} quarantined rows pass now (still failing: {failing});"
        f" {result.already_replayed} replayed before, {result.not_records} lines of text not replayable"
    )
    if record := result.record:
        print(
            f"replay extract {record.extract_id} ({record.file}): landed {record.rows_landed},"
            f" quarantined {record.rows_quarantined}, duplicates {record.duplicates_dropped},"
            f" erased subject {record.rows_erased_subject}; status {record.status}"
        )
    elif args.dry_run:
        print("dry run: nothing written")
    return 0


def cmd_sql(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration import analyst

    analyst.run_sql(paths, args.query, args.output)
    return 0


def cmd_export(args: argparse.Namespace, paths: DataPaths) -> int:
    from pathlib import Path

    from orchestration import analyst

    output = Path(args.output)
    rows = analyst.export_mart(paths, args.mart, args.format, output, args.store, args.from_date, args.to_date)
    print(f"wrote {rows:,} rows of {args.mart} to {output}", file=sys.stderr)
    return 0


def cmd_prepare(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.dbt_project import prepare_manifest

    print(f"wrote {prepare_manifest(paths)}")
    return 0


def cmd_contracts(args: argparse.Namespace, paths: DataPaths) -> int:
    from pathlib import Path

    from orchestration.contracts import dbt_sources, render

    outputs = {render.REFERENCE_FILE: render.render_markdown(), dbt_sources.SOURCES_FILE: dbt_sources.render_sources()}
    for path, text in outputs.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commerce-analytics", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write synthetic extracts of every source system to the inbox")
    _add_generator_options(generate)
    generate.set_defaults(func=cmd_generate)

    land = commands.add_parser("land", help="land pending inbox extracts through Dagster (with its checks)")
    land.add_argument("--date", type=date.fromisoformat, help="partition to run as (default: today, UTC)")
    land.set_defaults(func=cmd_land)

    run = commands.add_parser("run", help="generate, then land, build, check and publish everything through Dagster")
    _add_generator_options(run)
    _add_build_options(run)
    run.set_defaults(func=cmd_run)

    build = commands.add_parser("build", help="land, build, check and publish a date range as one Dagster run")
    build.add_argument("--from", dest="from_date", type=date.fromisoformat, help="first partition (default today)")
    build.add_argument("--to", dest="to_date", type=date.fromisoformat, help="last partition (default --from)")
    _add_build_options(build)
    build.set_defaults(func=cmd_build)

    publish = commands.add_parser("publish", help="publish the warehouse's marts (of one store) for analysts")
    publish.add_argument("--store", help="only this store's rows, to $DATA_DIR/marts_<store>.duckdb")
    publish.add_argument(
        "--rollback", action="store_true", help="put back the published file the last publish replaced"
    )
    publish.set_defaults(func=cmd_publish)

    backup = commands.add_parser(
        "backup", help="snapshot raw, manifest, quarantine, audit, suppression list and published marts"
    )
    backup.add_argument("--target", help="backup folder (default $COMMERCE_BACKUP_DIR)")
    backup.add_argument("--keep", type=int, help="snapshots to keep (default $COMMERCE_BACKUP_KEEP or 28)")
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser("restore", help="bring an empty data folder back from a backup snapshot")
    restore.add_argument("--from", dest="source", required=True, help="backup folder")
    restore.add_argument("--snapshot", help="snapshot id (default the newest)")
    restore.set_defaults(func=cmd_restore)

    replay = commands.add_parser(
        "replay", help="re-validate quarantined rows (after a contract change) and land those that now pass, once"
    )
    replay.add_argument("--source", required=True, help="extract contract, e.g. orders")
    replay.add_argument("--reason", help="only rows quarantined for this reason code (not_allowed) or reason:field")
    replay.add_argument("--extract", help="only rows of this extract (id prefix or file name)")
    replay.add_argument("--dry-run", action="store_true", help="count what would pass; write nothing")
    replay.set_defaults(func=cmd_replay)

    sql = commands.add_parser("sql", help="query the published marts ($DATA_DIR/marts.duckdb, read-only)")
    sql.add_argument("query", help='e.g. "select * from kpis_daily limit 5"')
    sql.add_argument("--csv", dest="output", action="store_const", const="csv", default="table")
    sql.add_argument("--json", dest="output", action="store_const", const="json", help="JSON lines")
    sql.set_defaults(func=cmd_sql)

    export = commands.add_parser("export", help="stream one published mart to CSV or Parquet")
    export.add_argument("mart")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--store", help="only this store's rows")
    export.add_argument("--from", dest="from_date", type=date.fromisoformat, help="first date, inclusive")
    export.add_argument("--to", dest="to_date", type=date.fromisoformat, help="last date, inclusive")
    export.add_argument("--output", required=True, help="file to write (replaced whole if it exists)")
    export.set_defaults(func=cmd_export)

    contracts = commands.add_parser(
        "contracts", help="write the contract reference and the dbt sources from the extract contracts"
    )
    contracts.set_defaults(func=cmd_contracts)

    prepare = commands.add_parser("prepare", help="parse the dbt project into the manifest Dagster loads")
    prepare.set_defaults(func=cmd_prepare)
    add_ltv_command(commands)
    add_governance_commands(commands)
    add_bench_command(commands)
    add_serve_commands(commands)
    for command in commands.choices.values():  # `build --verbose` as well as `--verbose build`
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from orchestration.analyst import AnalystError
    from orchestration.backup import BackupError
    from orchestration.publish import NothingToPublish

    paths = DataPaths.from_env()  # the one read of DATA_DIR: every command gets its paths from here
    try:
        return args.func(args, paths)
    # Bad options reach us as ValueError from the config classes; the others are the analyst's
    # and publisher's clear refusals.
    except (ValueError, AnalystError, NothingToPublish, BackupError) as exc:
        parser.exit(2, f"commerce-analytics: error: {exc}\n")
    except Exception as exc:  # anything else: a summary here, the traceback in the log
        if args.verbose:
            raise
        from orchestration.json_logs import log_crash

        log = log_crash(paths, args.command, exc)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        print(f"commerce-analytics {args.command} failed: {type(exc).__name__}: {first_line}", file=sys.stderr)
        print(f"  details: {log} (run log, with the traceback; or run again with --verbose)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
