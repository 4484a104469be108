"""The benchmark's stages, each timed as a whole with its peak memory.

One run: generate N+2 days (the last one a peak day); land N; build them through Dagster (the
`make run` job); back the data folder up and restore it into a second, empty folder, where plain
`dbt build` rebuilds it (the recovery time is restore + that build, and the rebuilt marts must equal
the restored published ones); publish; query the published marts; the DuckDB floor and the pandas
peer on the same Parquet; then deliver day N+1, build it incrementally through Dagster, as the daily
schedule would, and back up again (the increment). The same new day is also built on a shorter
history (its own folder: the first S days, built, then day N+1's size of day S+1; before the long
history, so that its builds share one parse of the project), so the two incremental days say
whether a day's cost grows with history. Then the peak day is delivered on top
and taken from inbox to published marts (land, incremental build, publish), and a full refresh of
the same data must give every published mart's checksum.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.landing.delivery import mark_delivered
from orchestration.settings import DataPaths

SAMPLE_SECONDS = 0.05
# A plain build of what later builds and the checksums read: no tests.
MODELS_ONLY = ("--resource-type", "model", "--resource-type", "seed")
# Typical analyst questions on the published marts (docs/querying.md).
QUERIES = {
    "kpis_last_week_per_store": """
        select store_id, sum(net_revenue_usd) as net_revenue_usd,
               sum(converted_sessions) / nullif(sum(sessions), 0) as conversion_rate,
               sum(gmv_usd) / nullif(sum(orders), 0) as aov_usd
        from kpis_daily where date >= (select max(date) - 7 from kpis_daily) group by store_id""",
    "channels_convert": """
        select channel_group, sum(sessions) as sessions, sum(conversions) / nullif(sum(sessions), 0) as rate,
               sum(revenue_usd) as revenue_usd
        from traffic_sources_daily group by channel_group order by revenue_usd desc""",
    "funnel_leaks": """
        select store_id, step_number, step_name, sum(entrants) as entrants,
               1 - sum(reached_next) / nullif(sum(entrants), 0) as drop_off_rate
        from funnel_daily group by all order by store_id, step_number""",
    "sessions_by_device_and_platform": """
        select device_type, platform, count(*) as sessions, avg(duration_seconds) as avg_seconds,
               avg(is_converted::int) as conversion_rate
        from fct_sessions group by all order by sessions desc""",
    "top_landing_pages": """
        select landing_page_path, count(*) as sessions, avg(is_bounce::int) as bounce_rate
        from fct_sessions group by 1 order by sessions desc limit 20""",
    "revenue_by_category": """
        select store_id, category, sum(gmv_usd) as gmv_usd
        from category_performance_daily group by all order by gmv_usd desc limit 20""",
    "daily_gmv_trend": """
        select date, sum(gmv_usd) as gmv_usd, sum(orders) as orders from kpis_daily group by 1 order by 1""",
}


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (dbt runs as a child of Dagster)."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:  # the process ended while we looked
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry.name)] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


@contextmanager
def measured(stages: dict, name: str, events: Callable[[], int] | int):
    """Time the block and sample its process tree's RSS; record both under `name`."""
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_bytes(os.getpid()))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    count = events() if callable(events) else events
    cores = os.cpu_count() or 1
    stages[name] = {
        "seconds": round(seconds, 3),
        "peak_rss_mib": round(peak[0] / 2**20, 1),
        "events": count,
        "events_per_second_per_core": round(count / seconds / cores) if seconds else None,
    }


def deliver(generated: DataPaths, target: DataPaths, day: date) -> None:
    """Copy the extracts the source systems wrote on `day` into the target's inbox."""
    stamp = day.strftime("%Y%m%d")
    for extract in generated.inbox.glob(f"*/*{stamp}*"):
        destination = target.inbox / extract.parent.name / extract.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(extract, destination)
    for folder in {extract.parent.name for extract in generated.inbox.glob(f"*/*{stamp}*")}:
        mark_delivered(target.inbox_for(folder))


def landed_events(paths: DataPaths) -> int:
    with duckdb.connect() as con:
        sql = f"select count(*) from read_parquet('{paths.raw}/events/date=*/part-*.parquet')"
        return con.execute(sql).fetchone()[0]


def floor_scan(paths: DataPaths) -> list[tuple]:
    """What DuckDB needs for one pass over the events: a scan-aggregate per UTC day and store."""
    with duckdb.connect() as con:
        return con.execute(
            f"select date, store_id, count(*) from read_parquet('{paths.raw}/events/date=*/part-*.parquet',"
            " hive_partitioning = true) group by all"
        ).fetchall()


def parse_floor(paths: DataPaths, day: date | None = None) -> dict[str, int]:
    """What DuckDB needs just to read the extracts landing reads, every field of every record, each
    source's files in one scan (so on every core; CSV files by header, as each names its columns):
    the ceiling of any landing of these formats. The records read, by source. With `day`, only that
    day's extracts (the inbox keeps the ones already landed)."""
    from orchestration.contracts import load_contracts
    from orchestration.landing.readers import UnreadableExtract, csv_header, csv_options, jsonl_batches_read
    from orchestration.lib.in_memory_duckdb import connect
    from orchestration.lib.sql_quoting import quote_literal

    parsed = {}
    # Landing's own connection: DuckDB 2.0 refuses enable_progress_bar as a connect() option.
    with connect() as con:
        for name, contract in load_contracts().items():
            files = sorted(paths.inbox_for(name).glob(contract.file_pattern))
            if day is not None:
                files = [file for file in files if day.strftime("%Y%m%d") in file.name]
            reads = []
            if contract.format == "csv":
                by_header = defaultdict(list)
                for file in files:
                    with suppress(UnreadableExtract):  # landing rejects it whole, unread
                        by_header[tuple(csv_header(file))].append(file)
                for header, group in by_header.items():
                    listed = ", ".join(quote_literal(str(file)) for file in group)
                    reads.append(("*", f"read_csv([{listed}], {csv_options(list(header))}, ignore_errors = true)"))
            elif files:
                reads.append(jsonl_batches_read(contract, files))
            parsed[name] = 0
            for selected, source in reads:
                query = f"select count(*), count(columns(*)) from (select {selected} from {source})"
                parsed[name] += con.execute(query).fetchone()[0]
    return parsed


def query_timings(published: Path, repeats: int) -> dict[str, dict]:
    """p50/p95 milliseconds of each analyst query on the published file, one connection as a BI tool holds."""
    timings = {}
    with duckdb.connect(str(published), read_only=True) as con:
        for name, sql in QUERIES.items():
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                con.execute(sql).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            cut = statistics.quantiles(runs, n=20, method="inclusive")
            timings[name] = {"p50_ms": round(statistics.median(runs), 2), "p95_ms": round(cut[18], 2)}
    return timings


def _dagster_build(paths: DataPaths, first: date, last: date, full_refresh: bool) -> None:
    """`make run`'s build of the window's models with every check, through Dagster: parse, then the
    build_all job over the models (what `rebuild_since` runs). Landing and publishing, the job's other
    steps, are stages of their own, so each is timed once."""
    import dagster as dg

    from orchestration.dbt_project import prepare_manifest
    from orchestration.runner import WAREHOUSE_MODELS, run_job

    prepare_manifest(paths)
    config = {"full_refresh": full_refresh}
    on = dg.DagsterInstance.ephemeral()
    result = run_job(paths, "build_all", first, last, config, on=on, selection=WAREHOUSE_MODELS)
    if not result.success:
        raise RuntimeError(f"the Dagster build of {first}..{last} failed; see {paths.root / 'alerts'}")


def _plain_dbt_build(paths: DataPaths, *selection: str) -> None:
    """A full-refresh `dbt build` of the whole project, or of what `selection` names, in a dbt
    process of its own as Dagster's (its environment names `paths`; this process's stays as it is)."""
    from orchestration.dbt_project import PRODUCTION_EXCLUDES, run_dbt, seed_partial_parse

    target = paths.root / "target"
    # From the manifest's parse, as Dagster's builds start: dbt keeps it if it was made for `paths`.
    seed_partial_parse(target)
    # A full refresh rebuilds every partition: it needs no window.
    args = ["build", "--full-refresh", *PRODUCTION_EXCLUDES, "--quiet", *selection]
    result = run_dbt(paths, *args, target_path=target)
    if result.returncode != 0:
        raise RuntimeError(f"plain dbt build failed:\n{(result.stdout + result.stderr)[-3000:]}")


def _peer_marts(raw: Path, key: str) -> dict:
    """The pandas peer's marts, computed in a process of its own as each dbt build runs in its own. The
    memory pandas takes (11 GiB at 6 M events) then goes with that process: in this one's heap it
    stayed under every later stage's peak (the peak day of 100 k events measured 8.4 GiB, 5.9 of
    them this process's own before landing began)."""
    from orchestration.bench import peer

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as own:
        return own.submit(peer.compute, raw, key).result()


def mart_checksums(paths: DataPaths) -> dict[str, dict]:
    """Per mart, [rows, order-independent checksum] (sum of the hash of every row) of the published
    file and of the warehouse's marts (as a full refresh left them), and whether they are equal."""
    from orchestration.publish import mart_digests, published_digests, published_path

    published = published_digests(published_path(paths))
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:  # the dbt process has ended
        rebuilt = mart_digests(con, "marts")
    return {
        mart: {
            "published": published.get(mart),
            "rebuilt": rebuilt.get(mart),
            "equal": published.get(mart) == rebuilt.get(mart),
        }
        for mart in sorted(published.keys() | rebuilt.keys())
    }


def compare_restored(paths: DataPaths) -> dict:
    """The marts a restored folder's rebuild holds against the published marts it restored, by checksum."""
    checksums = mart_checksums(paths)
    published = [c["published"] for c in checksums.values() if c["published"]]
    differing = [mart for mart, c in checksums.items() if not c["equal"]]
    return {"marts": len(published), "rows": sum(r for r, _ in published), "differing": differing}


def run_bench(
    root: Path,
    *,
    days: int,
    short_days: int,
    stores: int,
    events_per_day: int,
    peak_events: int,
    start_date: date,
    seed: int,
    query_repeats: int,
) -> dict:
    from orchestration.backup import DEFAULT_KEEP, backup, restore
    from orchestration.bench import peer
    from orchestration.dbt_project import prepare_manifest
    from orchestration.generator import GeneratorConfig, generate
    from orchestration.landing.land import land_all
    from orchestration.privacy import hmac_key
    from orchestration.publish import publish_marts, published_path

    if not 1 <= short_days < days:
        raise ValueError(f"the short history ({short_days} days) must be shorter than the long one ({days})")
    shutil.rmtree(root, ignore_errors=True)
    generated, main, plain = DataPaths(root / "generated"), DataPaths(root / "main"), DataPaths(root / "plain")
    short = DataPaths(root / "short")
    backups = root / "backups"
    last, new_day = start_date + timedelta(days=days - 1), start_date + timedelta(days=days)
    peak_day = new_day + timedelta(days=1)
    # Two days more than the full build: the incremental day's extracts arrive later, the peak day's last.
    config = GeneratorConfig(
        days=days + 2,
        start_date=start_date,
        stores=stores,
        events_per_day=events_per_day,
        peak_day_events=peak_events,
        seed=seed,
    )
    stages: dict[str, dict] = {}

    with measured(stages, "generate", lambda: sum(n for f, n in truth["files"].items() if "/events/" in f)):
        truth = generate(generated, config)
    # A new day of the same size on a short history, in a folder of its own: its first days landed
    # and built (untimed: the seeds and models alone, which is all the next build reads), then the
    # next day incrementally through Dagster. Against incremental_day: grows it with history? First,
    # so that the long history's builds follow one another on one parse of the project: dbt parses it
    # whole again for every other data folder (the profile's path names it).
    for offset in range(short_days):
        deliver(generated, short, start_date + timedelta(days=offset))
    land_all(short)
    prepare_manifest(short)
    _plain_dbt_build(short, *MODELS_ONLY)
    short_events, short_new_day = landed_events(short), start_date + timedelta(days=short_days)
    deliver(generated, short, short_new_day)
    land_all(short)
    with measured(stages, "incremental_day_short", lambda: landed_events(short) - short_events):
        _dagster_build(short, short_new_day, short_new_day, full_refresh=False)

    for offset in range(days):
        deliver(generated, main, start_date + timedelta(days=offset))
    with measured(stages, "parse_floor", lambda: parsed["events"]):
        parsed = parse_floor(main)
    with measured(stages, "land", lambda: landed_events(main)):
        land_all(main)
    events = landed_events(main)
    with measured(stages, "build_dagster", events):
        _dagster_build(main, start_date, last, full_refresh=True)
    with measured(stages, "publish", events):
        publish_marts(main)
    with measured(stages, "backup", events):
        backup(main, backups, keep=DEFAULT_KEEP)
    # The same project with plain dbt, into its own warehouse, over a restore of that backup.
    with measured(stages, "restore", events):
        restore(backups, plain)
    with measured(stages, "build_dbt", events):
        _plain_dbt_build(plain)
    recovery = compare_restored(plain)
    # Like for like with the peer: the models its three marts are built from, no tests.
    with measured(stages, "build_dbt_peer_marts", events):
        _plain_dbt_build(plain, "--select", *(f"+{m}" for m in peer.MARTS), "--resource-type", "model")
    with measured(stages, "floor_scan", events):
        floor_scan(main)
    with measured(stages, "peer_pandas", events):
        peer_marts = _peer_marts(main.raw, hmac_key(main))
    comparison = peer.compare(peer_marts, published_path(main))
    queries = query_timings(published_path(main), query_repeats)
    # The next day, landed (untimed: `land` and `peak_land` time landing), then built incrementally.
    deliver(generated, main, new_day)
    land_all(main)
    with measured(stages, "incremental_day", lambda: landed_events(main) - events):
        _dagster_build(main, new_day, new_day, full_refresh=False)
    with measured(stages, "backup_incremental", lambda: landed_events(main) - events):
        backup(main, backups, keep=DEFAULT_KEEP)

    # The peak day on top of the long history, inbox to published marts, each step and the whole.
    before_peak = landed_events(main)
    deliver(generated, main, peak_day)
    with measured(stages, "peak_parse_floor", lambda: peak_parsed["events"]):
        peak_parsed = parse_floor(main, peak_day)
    with measured(stages, "peak_day", lambda: landed_events(main) - before_peak):
        with measured(stages, "peak_land", lambda: landed_events(main) - before_peak):
            land_all(main)
        with measured(stages, "peak_build", lambda: landed_events(main) - before_peak):
            _dagster_build(main, peak_day, peak_day, full_refresh=False)
        with measured(stages, "peak_publish", lambda: landed_events(main) - before_peak):
            publish_marts(main)
    # What the incremental days published against a full refresh of the same data, mart by mart.
    # The reference needs the models alone: the incremental builds ran every test on this data.
    with measured(stages, "full_refresh", landed_events(main)):
        _plain_dbt_build(main, *MODELS_ONLY)
    checksums = mart_checksums(main)

    return {
        "scale": {
            "days": days,
            "short_days": short_days,
            "stores": stores,
            "events_per_day": events_per_day,
            "peak_events": peak_events,
            "seed": seed,
        },
        "events": events,
        "stages": stages,
        "queries": queries,
        "peer": comparison,
        "recovery": recovery,
        "incremental_vs_full_refresh": checksums,
    }
