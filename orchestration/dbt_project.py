"""The dbt project as dagster-dbt sees it, and how its manifest gets prepared.

The manifest is never parsed at import: `dagster dev` prepares it through `prepare_if_dev()`,
the CLI and the tests call `prepare_manifest()` before loading the definitions.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

# The CLI may run without the virtualenv's bin/ on PATH; dbt is installed beside this Python.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

# The repository root holds dbt_project.yml and profiles.yml (an editable install keeps it there).
PROJECT_DIR = Path(__file__).resolve().parent.parent

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)


def prepare_manifest() -> Path:
    """Parse the project into target/manifest.json with the dbt beside this Python."""
    DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
        ["parse", "--quiet"], target_path=dbt_project.target_path
    ).wait()
    return dbt_project.manifest_path


def ensure_manifest() -> Path:
    """The manifest, parsed first if this checkout has none yet (a fresh clone)."""
    if dbt_project.manifest_path.exists():
        return dbt_project.manifest_path
    return prepare_manifest()
