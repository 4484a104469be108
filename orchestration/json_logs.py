"""Structured run logs: one JSON object a line, the Dagster run id as correlation id.

Messages are scrubbed of anything that looks like an e-mail address, an IP address or a phone
number before they are written; our own code never logs row values, this guards what a library
might echo (an error message quoting a row, say).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.settings import DataPaths

PERSONAL_DATA = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b"  # IPv4
    r"|\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){3,7}\b"  # IPv6
    r"|\+\d[\d ()-]{6,}\d|\(\d{2,5}\)[\d -]{5,}\d",  # phone number (international or area code)
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    return PERSONAL_DATA.sub("<redacted>", text)


def log_file(paths: DataPaths) -> Path:
    return paths.root / "logs" / "runs.jsonl"


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        line = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "run_id": meta.get("run_id"),
            "job": meta.get("job_name"),
            "step": meta.get("step_key"),
            "event": event.event_type_value if event else None,
            "message": scrub(meta.get("orig_message", record.getMessage())),
            "error": _error(event),
        }
        return json.dumps({k: v for k, v in line.items() if v is not None})


def _error(event: dg.DagsterEvent | None) -> str | None:
    """A failure's error with its traceback: the terminal shows a summary, the log the details."""
    error = getattr(event.event_specific_data, "error", None) if event else None
    return scrub(error.to_string()) if error else None


def log_crash(paths: DataPaths, command: str, error: BaseException) -> Path:
    """Append an error the CLI did not expect, traceback included, to the run log; returns the log."""
    path = log_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "ERROR",
        "command": command,
        "message": scrub(f"{type(error).__name__}: {error}"),
        "error": scrub("".join(traceback.format_exception(error))),
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    return path


@dg.logger(
    config_schema={
        "log_level": dg.Field(str, default_value="INFO"),
        "data_dir": dg.Field(dg.StringSource, default_value="data", description="writes $DATA_DIR/logs/runs.jsonl"),
    },
    description="JSON lines with the run id as correlation id, personal data scrubbed.",
)
def json_file_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    path = log_file(DataPaths(Path(init_context.logger_config["data_dir"]).resolve()))
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonLineFormatter())
    logger = logging.Logger("commerce_analytics", level=init_context.logger_config["log_level"])
    logger.addHandler(handler)
    return logger


def logger_config(console_level: str = "WARNING", paths: DataPaths | None = None) -> dict:
    """Run config for the loggers: the console for people, the JSON file for machines, under
    `paths` or else the DATA_DIR Dagster reads when the run starts (as for the settings resource)."""
    data_dir = str(paths.root) if paths else {"env": "DATA_DIR"}
    return {
        "loggers": {
            "console": {"config": {"log_level": console_level}},
            "json": {"config": {"log_level": "INFO", "data_dir": data_dir}},
        }
    }
