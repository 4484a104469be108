"""`commerce-analytics bench`: generate a dataset, time every stage, print and save the report."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.settings import DataPaths

# The scale: 28 days of history (and 7 for the scaling stage), 3 stores, 1 M events a day,
# a peak day of 14.4 M events (10 K a minute).
DEFAULTS = {"days": 28, "short_days": 7, "stores": 3, "events_per_day": 1_000_000, "peak_events": 14_400_000}
QUICK = {"days": 3, "short_days": 1, "stores": 2, "events_per_day": 20_000, "peak_events": 60_000}


def cmd_bench_serve(args: argparse.Namespace, paths: DataPaths) -> int:
    """Issue 17's budgets on the marts published in $DATA_DIR (build the largest you have first)."""
    from orchestration.bench import serve

    result = serve.serve_timings(paths, args.repeats)
    print(serve.render(result))
    out = paths.root / "bench" / "serve-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


def cmd_bench(args: argparse.Namespace, paths: DataPaths) -> int:
    from orchestration.bench import report, stages

    if args.serve:
        return cmd_bench_serve(args, paths)
    scale = {**DEFAULTS, **(QUICK if args.quick else {})}
    scale.update({k: v for k in DEFAULTS if (v := getattr(args, k)) is not None})
    root = Path(args.workdir).resolve() if args.workdir else paths.root / "bench" / "work"
    # The incremental and peak days must be partitions, and partitions end today (UTC): by default
    # the run's last day (the peak day) is yesterday.
    start = args.start_date or datetime.now(UTC).date() - timedelta(days=scale["days"] + 2)
    result = stages.run_bench(root, start_date=start, seed=args.seed, query_repeats=args.repeats, **scale)
    result = report.finish(result)
    print(report.render(result))
    out = report.save(result, paths.root / "bench")
    print(f"\nwrote {out}")
    return 0 if result["peer"]["equal"] and report.marts_equal(result) else 1


def add_bench_command(commands) -> None:
    bench = commands.add_parser("bench", help="time every stage against the DuckDB floor and a pandas peer")
    bench.add_argument("--days", type=int, help=f"days of history before the incremental day ({DEFAULTS['days']})")
    bench.add_argument(
        "--short-days",
        type=int,
        help=f"the shorter history the same new day is also built on ({DEFAULTS['short_days']})",
    )
    bench.add_argument("--stores", type=int, help=f"stores, 1-6 ({DEFAULTS['stores']})")
    bench.add_argument("--events-per-day", type=int, help=f"clickstream volume ({DEFAULTS['events_per_day']:,})")
    bench.add_argument(
        "--peak-events", type=int, help=f"the peak day's events, all stores ({DEFAULTS['peak_events']:,})"
    )
    bench.add_argument("--quick", action="store_true", help=f"a small try-out scale: {QUICK}")
    bench.add_argument("--start-date", type=date.fromisoformat, help="first day (default: so the last is yesterday)")
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--repeats", type=int, default=20, help="runs of each analyst query (default %(default)s)")
    bench.add_argument(
        "--serve",
        action="store_true",
        help="only issue 17's API, export and page budgets, on $DATA_DIR's marts",
    )
    bench.add_argument("--workdir", help="where the benchmark's data lives (default $DATA_DIR/bench/work, wiped)")
    bench.set_defaults(func=cmd_bench)
