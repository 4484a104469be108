"""`commerce-analytics`: the one command-line entry point."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta

from orchestration.ltv.cli import add_ltv_command
from orchestration.settings import DataPaths


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


def cmd_generate(args: argparse.Namespace) -> int:
    from orchestration.generator import generate

    paths = DataPaths.from_env()
    truth = generate(paths, _generator_config(args))
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


def _land(paths: DataPaths, first: date, last: date) -> int:
    from orchestration.contracts import load_contracts
    from orchestration.runner import run_job

    result = run_job("land_all", first, last)
    _print_landing_summary(paths, list(load_contracts()))
    failed_checks = [
        e.event_specific_data.asset_check_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    if failed_checks:
        print(f"blocking checks failed: {', '.join(failed_checks)}", file=sys.stderr)
    print(f"raw Parquet: {paths.raw}\nquarantine:  {paths.quarantine}\nmanifest:    {paths.manifest}")
    return 0 if result.success else 1


def cmd_land(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    return _land(DataPaths.from_env(), args.date or today, args.date or today)


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.generator import generate

    paths = DataPaths.from_env()
    config = _generator_config(args)
    truth = generate(paths, config)
    print(f"generated {len(truth['files'])} extracts into {paths.inbox}")
    return _land(paths, config.start_date, config.start_date + timedelta(days=config.days - 1))


def cmd_contracts(args: argparse.Namespace) -> int:
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
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write synthetic extracts of every source system to the inbox")
    _add_generator_options(generate)
    generate.set_defaults(func=cmd_generate)

    land = commands.add_parser("land", help="land pending inbox extracts through Dagster (with its checks)")
    land.add_argument("--date", type=date.fromisoformat, help="partition to run as (default: today, UTC)")
    land.set_defaults(func=cmd_land)

    run = commands.add_parser("run", help="generate, then land and build everything through Dagster")
    _add_generator_options(run)
    run.set_defaults(func=cmd_run)

    contracts = commands.add_parser(
        "contracts", help="write the contract reference and the dbt sources from the extract contracts"
    )
    contracts.set_defaults(func=cmd_contracts)
    add_ltv_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad options reach us as ValueError from the config classes
        parser.exit(2, f"commerce-analytics: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
