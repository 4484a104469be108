"""Data minimised at landing: no full IP address is written to any Parquet file."""

import duckdb

from orchestration.landing.land import land_source
from tests.conftest import event, write_batches

ADDRESSES = {
    "192.0.2.10": "192.0.2.0",
    "2001:db8:1:2:3:4:5:6": "2001:db8:1::",
    "2001:db8:aa::1": "2001:db8:aa::",
    "not an address": None,
}


def test_landing_writes_ip_addresses_truncated_to_their_network(paths):
    views = [
        event(f"e{i}", context={"platform": "web", "user_agent": "Mozilla/5.0", "ip": ip})
        for i, ip in enumerate(ADDRESSES)
    ]
    sent = "2026-11-01T09:00:00.000Z"
    write_batches(paths, "events.jsonl.gz", [{"sent_at": sent, "received_at": sent, "events": views}])

    [record] = land_source(paths, "events")

    assert record.rows_landed == len(ADDRESSES)
    files = sorted(str(f) for f in paths.root.rglob("*.parquet"))
    landed = duckdb.execute("SELECT event_id, ip FROM read_parquet(?) ORDER BY 1", [files]).fetchall()
    assert landed == [(f"e{i}", truncated) for i, truncated in enumerate(ADDRESSES.values())]
    # Not in any column of any file, nor in the bytes.
    for full in ("192.0.2.10", "2001:db8:1:2", "2001:db8:aa::1"):
        rows = "SELECT count(*) FROM read_parquet(?, union_by_name = true) t WHERE contains(t::VARCHAR, ?)"
        assert duckdb.execute(rows, [files, full]).fetchone() == (0,)
        assert not [f for f in paths.root.rglob("*.parquet") if full.encode() in f.read_bytes()]
