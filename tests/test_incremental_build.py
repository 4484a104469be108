"""Build the warehouse day by day, incrementally, as extracts arrive (late events, consent
decisions and payments included), landed on a machine whose clock is a day behind, and prove
every mart equals a full refresh of the same data."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.bench.stages import deliver
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing import land
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths

FIRST_DAY = date(2026, 11, 1)
DAYS = 2
# Landing times differ between the two builds by construction; they are bookkeeping, not data.
BOOKKEEPING = {"partition_landed_at"}
# Every model downstream of an incremental one, and everything those read (dbt "@"). The other marts are tables
# rebuilt whole from the same landed data on every run, equal by construction, so building them
# four times here would only cost time.
AFFECTED = ["--select", "@int_events_sessionized"]


def land_and_run(paths: DataPaths, monkeypatch, *dbt_args: str) -> None:
    land_all(paths)
    monkeypatch.setenv("DATA_DIR", str(paths.root))
    args = ["run", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")]
    result = dbtRunner().invoke([*args, *dbt_args])
    assert result.success, [(r.node.name, r.message) for r in result.result or [] if r.status != "success"]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    generated = DataPaths(root / "generated")
    generate(generated, GeneratorConfig(days=DAYS, start_date=FIRST_DAY, stores=2, events_per_day=3000, seed=23))
    incremental, full = DataPaths(root / "incremental"), DataPaths(root / "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PII_HMAC_KEY", "test-key-shared-by-both-builds")
        seed = ["seed", "--project-dir", ".", "--profiles-dir", "."]
        for paths in (incremental, full):
            mp.setenv("DATA_DIR", str(paths.root))
            paths.root.mkdir(parents=True)
            assert dbtRunner().invoke([*seed, "--target-path", str(paths.root / "target")]).success
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            deliver(generated, incremental, day)
            # From the second day on the landing machine's clock is a day behind, and the run rebuilds
            # no day before its window: the late events, consent and payments of the first day must
            # be found by their landing stamps, which follow the landing sequence, not the clock.
            with pytest.MonkeyPatch.context() as clock:
                if offset:
                    clock.setattr(land, "_machine_now", lambda: datetime.now(UTC) - timedelta(days=1))
                land_and_run(incremental, mp, *AFFECTED, "--vars", f"{{window_start: '{day}', lookback_days: 0}}")
            deliver(generated, full, day)
        land_and_run(full, mp, *AFFECTED, "--full-refresh")
    return incremental, full


def mart_rows(paths: DataPaths) -> dict[str, Counter]:
    """Every mart as a multiset of rows, bookkeeping columns left out."""
    # Not read-only: dbt's in-process connection to the same file is still open.
    with duckdb.connect(str(paths.warehouse)) as con:
        tables = con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns "
            "WHERE table_schema = 'marts' GROUP BY table_name"
        ).fetchall()
        return {
            table: Counter(
                con.execute(
                    f"SELECT {', '.join(c for c in columns if c not in BOOKKEEPING)} FROM marts.{table}"
                ).fetchall()
            )
            for table, columns in tables
        }


def test_every_mart_built_day_by_day_equals_a_full_refresh(warehouses):
    incremental, full = (mart_rows(paths) for paths in warehouses)
    assert {"fct_sessions", "fct_page_views", "funnel_daily", "kpis_daily"} <= set(full)
    assert set(incremental) == set(full)
    differences = {
        table: (sum((incremental[table] - rows).values()), sum((rows - incremental[table]).values()))
        for table, rows in full.items()
        if incremental[table] != rows
    }
    assert differences == {}
    # The comparison means something: the event marts hold rows from every day.
    session_days = {row[2] for row in full["fct_sessions"]}
    assert len(session_days) >= DAYS
