"""Where things live. Everything hangs off DATA_DIR (default ./data), so tests and
benchmarks run in a folder of their own."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

# The repository root holds dbt_project.yml and profiles.yml (an editable install keeps it there).
PROJECT_DIR = Path(__file__).resolve().parent.parent


def dbt_project_config() -> dict:
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))


def project_var(name: str):
    """A var's default in dbt_project.yml, for Python that must agree with the models. Here, not
    beside the dbt resources: the dbt process's plugin needs it without importing Dagster."""
    return dbt_project_config()["vars"][name]


# The dbt target when DBT_TARGET is unset (profiles.yml's default) and the Spark one.
DEFAULT_TARGET = "dev"
SPARK_TARGET = "spark"
TARGET_ENV = "DBT_TARGET"


@functools.cache
def project_targets() -> tuple[str, ...]:
    """The targets profiles.yml declares for the project's profile (read once per process: every
    `on_spark()` asks)."""
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    return tuple(profiles["commerce_analytics"]["outputs"])


def dbt_target() -> str:
    """The dbt target of this process (DBT_TARGET, default `dev`); one profiles.yml declares, or a
    ValueError naming those it does."""
    target = os.environ.get(TARGET_ENV) or DEFAULT_TARGET
    targets = project_targets()
    if target not in targets:
        raise ValueError(f"{TARGET_ENV}={target}: not a target of profiles.yml ({', '.join(targets)})")
    return target


def on_spark() -> bool:
    return dbt_target() == SPARK_TARGET


def partition_file(day: str, extract_id: str) -> str:
    """Where one extract's rows of one UTC date live, relative to its source folder (hive layout)."""
    return f"date={day}/part-{extract_id}.parquet"


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def from_env(cls) -> DataPaths:
        return cls(Path(os.environ.get("DATA_DIR", "data")).resolve())

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def manifest(self) -> Path:
        """One JSON record per landed extract, named by its content hash."""
        return self.root / "manifest"

    @property
    def generator_truth(self) -> Path:
        """What the generator planted: model parameters and dirt counts, for tests."""
        return self.root / "generator" / "truth.json"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def spark_warehouse(self) -> Path:
        """The Spark target's tables, one Parquet folder each (profiles.yml's warehouse dir)."""
        return self.root / "spark" / "warehouse"

    def inbox_for(self, source: str) -> Path:
        return self.inbox / source

    def raw_for(self, source: str) -> Path:
        return self.raw / source

    def landed_file(self, source: str, day: str, extract_id: str) -> Path:
        return self.raw_for(source) / partition_file(day, extract_id)

    def quarantine_for(self, source: str) -> Path:
        return self.quarantine / source
