"""The dbt project as dagster-dbt sees it, and how its manifest gets prepared.

The manifest is never parsed at import: `dagster dev` prepares it through `prepare_if_dev()`,
the CLI and the tests call `prepare_manifest()` before loading the definitions.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

# The CLI may run without the virtualenv's bin/ on PATH; dbt is installed beside this Python.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

# The repository root holds dbt_project.yml and profiles.yml (an editable install keeps it there).
PROJECT_DIR = Path(__file__).resolve().parent.parent

# A target folder of Dagster's own: dbt run by hand writes target/, and its partial-parse file
# (made for another DATA_DIR or other vars) would make every Dagster build parse from scratch.
dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=Path("target", "dagster"))


def seed_partial_parse(run_target: Path) -> None:
    """Start a run's dbt target folder from the manifest's parse, which dbt reuses when the
    vars and profile are those the manifest was prepared with (the CLI prepares it so)."""
    parsed = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    if parsed.exists():
        run_target.mkdir(parents=True, exist_ok=True)
        shutil.copy(parsed, run_target / parsed.name)


def window_vars(start: date, end: date) -> dict[str, str]:
    """The dbt vars of a partition window: UTC dates, start inclusive, end exclusive."""
    return {"window_start": start.isoformat(), "window_end": end.isoformat()}


def prepare_manifest(dbt_vars: dict | None = None) -> Path:
    """Parse the project into target/dagster/manifest.json with the dbt beside this Python.

    Parsing with the vars of the coming build leaves a partial-parse file the build can reuse
    (dbt parses from scratch whenever its vars change).
    """
    args = ["parse", "--quiet", *(["--vars", json.dumps(dbt_vars)] if dbt_vars else [])]
    DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
        args, target_path=dbt_project.target_path
    ).wait()
    return dbt_project.manifest_path
