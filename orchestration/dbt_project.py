"""The dbt project as dagster-dbt sees it, and how its manifest gets prepared.

The manifest is never parsed at import: `dagster dev` prepares it through `prepare_if_dev()`,
the CLI and the tests call `prepare_manifest()` before loading the definitions.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import yaml
from dagster_dbt import DbtCliResource, DbtProject

# The CLI may run without the virtualenv's bin/ on PATH; dbt is installed beside this Python.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

# The repository root holds dbt_project.yml and profiles.yml (an editable install keeps it there).
PROJECT_DIR = Path(__file__).resolve().parent.parent

# A target folder of Dagster's own: dbt run by hand writes target/, and its partial-parse file
# (made for another DATA_DIR or other vars) would make every Dagster build parse from scratch.
dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=Path("target", "dagster"))


def project_var(name: str):
    """A var's default in dbt_project.yml, for Python that must agree with the models."""
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"][name]


def seed_partial_parse(run_target: Path) -> None:
    """Start a run's dbt target folder from the manifest's parse, which dbt reuses as long as the
    vars and profile are those the manifest was prepared with (builds pass none)."""
    parsed = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    if parsed.exists():
        run_target.mkdir(parents=True, exist_ok=True)
        shutil.copy(parsed, run_target / parsed.name)


# The first UTC date of a build's window, for macros/rebuilt_partitions.sql. An environment
# variable rather than a dbt var: any change of vars makes dbt parse the whole project again.
WINDOW_START_ENV = "DBT_WINDOW_START"


@contextmanager
def window_environment(start: date) -> Iterator[dict[str, str]]:
    """Name a build's window in the environment of the dbt processes started inside the block."""
    previous = os.environ.get(WINDOW_START_ENV)
    os.environ[WINDOW_START_ENV] = start.isoformat()
    try:
        yield {WINDOW_START_ENV: start.isoformat()}
    finally:
        if previous is None:
            del os.environ[WINDOW_START_ENV]
        else:
            os.environ[WINDOW_START_ENV] = previous


def prepare_manifest() -> Path:
    """Parse the project into target/dagster/manifest.json with the dbt beside this Python; the
    parse is also the partial-parse file every build starts from (see seed_partial_parse). dbt
    writes into a folder of this process's own, then each file replaces the old one whole: a
    process loading the definitions meanwhile (another run, a test beside) never reads half a file."""
    target = dbt_project.project_dir / dbt_project.target_path
    parsing = target.with_name(f"{target.name}.parsing-{os.getpid()}")
    shutil.rmtree(parsing, ignore_errors=True)
    seed_partial_parse(parsing)
    try:
        DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=parsing
        ).wait()
        target.mkdir(parents=True, exist_ok=True)
        for produced in parsing.iterdir():
            if produced.is_file():
                produced.replace(target / produced.name)
    finally:
        shutil.rmtree(parsing, ignore_errors=True)
    return dbt_project.manifest_path


def ensure_manifest() -> Path:
    """The manifest, prepared first if this checkout has none (a fresh clone before `make manifest`)."""
    return dbt_project.manifest_path if dbt_project.manifest_path.exists() else prepare_manifest()
