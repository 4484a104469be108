"""The command line: `generate` then `land` lands through Dagster and reports what it landed.

(`run` goes on to build, check and publish: tests/test_orchestration.py drives that build.)"""

import pytest

from orchestration.cli import main
from orchestration.landing import manifest


def test_land_lands_the_generated_extracts_and_prints_the_accounting(paths, capsys):
    # Clean data: tiny dirty batches may quarantine more than their expectations allow.
    assert main(["generate", "--days", "2", "--stores", "1", "--events-per-day", "2000", "--seed", "3", "--clean"]) == 0
    assert main(["land", "--date", "2026-11-02"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("events ", "orders "))}
    for source in ("events", "orders"):
        records = manifest.records(paths, source)
        expected = [
            len(records),
            sum(r.rows_received for r in records),
            sum(r.rows_landed for r in records),
            sum(r.rows_quarantined for r in records),
            sum(r.duplicates_dropped for r in records),
        ]
        assert [int(v.replace(",", "")) for v in rows[source]] == expected
        assert expected[2] > 0
    assert f"raw Parquet: {paths.raw}" in out


def test_bad_options_end_in_a_clear_error(paths, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--stores", "9"])
    assert exit_info.value.code == 2
    assert "stores must be between 1 and 6" in capsys.readouterr().err
