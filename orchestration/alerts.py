"""Alert records for failed runs: which steps failed and which checks did not pass.

Written by the run-failure sensor (runs launched by `dagster dev`, schedules and sensors) and by
the CLI runner (in-process runs, which no sensor watches), one JSON file per failed run under
`$DATA_DIR/alerts/`, for whatever pages the on-call person to pick up.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.json_logs import scrub
from orchestration.lib.atomic_files import write_text_atomic
from orchestration.settings import DataPaths


def alert_path(paths: DataPaths, run_id: str) -> Path:
    return paths.root / "alerts" / f"{run_id}.json"


def _error_text(error) -> str:
    """The error's own lines and its cause's, compacted and scrubbed (dbt quotes the failing node)."""
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    text = " ".join(" ".join(m.split()) for m in messages)
    return scrub(text)[:1000]


def failure_record(instance: dg.DagsterInstance, run_id: str) -> dict:
    run = instance.get_run_by_id(run_id)
    events = [record.dagster_event for record in instance.all_logs(run_id) if record.dagster_event]
    failed_checks = [
        {
            "asset": e.event_specific_data.asset_key.to_user_string(),
            "check": e.event_specific_data.check_name,
            # What failed and why, as the check says it (a landing check names each file and its reason).
            **({"detail": scrub(e.event_specific_data.description)} if e.event_specific_data.description else {}),
        }
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.event_specific_data.passed
    ]
    failed_steps = [
        {"step": e.step_key, "error": _error_text(e.event_specific_data.error)}
        for e in events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    return {
        "run_id": run_id,
        "job": run.job_name if run else None,
        "partitions": {k: v for k, v in run.tags.items() if k.startswith("dagster/") and "partition" in k}
        if run
        else {},
        "alerted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "failed_steps": failed_steps,
        "failed_checks": failed_checks,
    }


def write_alert(paths: DataPaths, instance: dg.DagsterInstance, run_id: str) -> dict:
    record = failure_record(instance, run_id)
    write_text_atomic(alert_path(paths, run_id), json.dumps(record, indent=2))
    return record


def summary(record: dict) -> str:
    checks = ", ".join(f"{c['asset']}:{c['check']}" for c in record["failed_checks"]) or "none"
    steps = ", ".join(s["step"] for s in record["failed_steps"]) or "none"
    return f"run {record['run_id']} failed: steps {steps}; failed checks {checks}"
