"""The dbt project as dagster-dbt sees it, and how its manifest gets prepared.

The manifest is never parsed at import: `dagster dev` prepares it through `prepare_if_dev()`,
the CLI and the tests call `prepare_manifest()` before loading the definitions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import dagster as dg
from dagster._utils import pushd
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource, DbtProject
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.dagster_dbt_translator import validate_opt_translator
from dagster_dbt.dbt_manifest import DbtManifestParam, validate_manifest

from orchestration.lib.file_locks import exclusive_file
from orchestration.settings import PROJECT_DIR, SPARK_TARGET, TARGET_ENV, DataPaths, dbt_project_config, dbt_target

# The CLI may run without the virtualenv's bin/ on PATH; dbt is installed beside this Python.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

# dbt unit tests check the SQL, not the data: CI runs them (`make test`), a data build does not.
PRODUCTION_EXCLUDES = ["--exclude-resource-type", "unit_test"]

# A target folder of Dagster's own: dbt run by hand writes target/, and its partial-parse file
# (made for another DATA_DIR or other vars) would make every Dagster build parse from scratch.
dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=Path("target", "dagster"))


def seed_partial_parse(run_target: Path) -> None:
    """Start a run's dbt target folder from the manifest's parse, which dbt reuses as long as the
    vars and profile are those the manifest was prepared with (builds pass none). A folder an
    earlier build left its own parse in keeps it: that one was made for the folder's data."""
    parsed = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    if parsed.exists() and not (run_target / parsed.name).exists():
        run_target.mkdir(parents=True, exist_ok=True)
        shutil.copy(parsed, run_target / parsed.name)


# The first UTC date of a build's window, for macros/rebuilt_partitions.sql. An environment
# variable rather than a dbt var: any change of vars makes dbt parse the whole project again.
WINDOW_START_ENV = "DBT_WINDOW_START"


# The Spark target's catalog: a Dagster run may start several dbt commands, each in a JVM of its
# own, and the in-memory catalog lives one command; the Derby metastore (`hive`) outlives them.
SPARK_CATALOG_ENV = "SPARK_CATALOG"
SPARK_DEFAULT_CATALOG = "hive"
SPARK_PYTHON_ENV = "PYSPARK_PYTHON"


def target_environment() -> dict[str, str]:
    """The target (checked against profiles.yml) and on Spark its catalog and Python, as every dbt
    process of this one is told them: a parse and the builds that reuse it must see the same profile."""
    target = dbt_target()
    env = {TARGET_ENV: target}
    if target == SPARK_TARGET:
        env[SPARK_CATALOG_ENV] = os.environ.get(SPARK_CATALOG_ENV) or SPARK_DEFAULT_CATALOG
        # The Python of Spark's script transforms (the LTV fit): this one, which has the project.
        env[SPARK_PYTHON_ENV] = os.environ.get(SPARK_PYTHON_ENV) or sys.executable
    return env


def dbt_environment(paths: DataPaths, window_start: date | None = None) -> dict[str, str]:
    """What a dbt process is told on top of the environment it inherits: the data folder (its
    profile, sources and pii_key plugin read DATA_DIR), the target and on Spark its catalog, and
    the first date of the build's window."""
    env = {"DATA_DIR": str(paths.root), **target_environment()}
    if window_start is not None:
        env[WINDOW_START_ENV] = window_start.isoformat()
    return env


def run_dbt(
    paths: DataPaths, *args: str, target_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess:
    """A dbt command on `paths` in a process of its own, as Dagster's are, its output captured. Its
    environment is this process's with `dbt_environment(paths)` and `env` laid over it; this
    process's own stays as it is."""
    command = [DBT_EXECUTABLE, *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    environment = {**os.environ, **dbt_environment(paths), **(env or {})}
    return subprocess.run(
        [*command, "--target-path", str(target_path)], env=environment, capture_output=True, text=True, check=False
    )


class DbtCli(DbtCliResource):
    """dagster-dbt's resource, whose `cli` also takes `env`, laid over the environment the dbt
    process inherits. dagster-dbt builds that environment from `os.environ` and takes none
    (an `env` argument was declined upstream, dagster-io/dagster#29656, in favour of changing
    `os.environ`, which would leak a run's window into every other thread and run of the
    process). The body is dagster-dbt 0.29's `DbtCliResource.cli`, with `env` merged last and
    no in-process dbt adapter (it serves column metadata only, which no asset here fetches)."""

    def cli(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        raise_on_error: bool = True,
        manifest: DbtManifestParam | None = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: dg.OpExecutionContext | dg.AssetExecutionContext | None = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        translator = validate_opt_translator(dagster_dbt_translator) or DagsterDbtTranslator()
        cleaned_args, runtime_selects, runtime_excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=validate_manifest(manifest) if manifest else {},
            dagster_dbt_translator=translator,
            runtime_selects=runtime_selects,
            runtime_excludes=runtime_excludes,
        )
        target_path = target_path or self._get_unique_target_path(context=context)
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        process_env = {
            "PYTHONLEGACYWINDOWSSTDIO": "1",
            **os.environ,
            "DAGSTER_DBT_CLI": "true",
            "PYTHONUNBUFFERED": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_FORMAT": "json",  # dagster-dbt parses dbt's structured logs
            "DBT_TARGET_PATH": os.fspath(target_path),
            "DBT_LOG_PATH": os.fspath(target_path),
            **({"DBT_PROFILES_DIR": self.profiles_dir} if self.profiles_dir else {}),
            "DBT_PROJECT_DIR": str(project_dir),
            **({DBT_INDIRECT_SELECTION_ENV: params.indirect_selection} if params.indirect_selection else {}),
            **(env or {}),
        }
        profile_args = [
            *(["--profile", self.profile] if self.profile else []),
            *(["--target", self.target] if self.target else []),
        ]
        command = [self.dbt_executable, *self.global_config_flags, *cleaned_args, *profile_args, *params.selection_args]
        if not target_path.is_absolute():
            target_path = project_dir.joinpath(target_path)
        with pushd(str(project_dir)):
            return DbtCliInvocation.run(
                args=command,
                env=process_env,
                manifest=params.manifest,
                dagster_dbt_translator=params.dagster_dbt_translator,
                project_dir=project_dir,
                target_path=target_path,
                raise_on_error=raise_on_error,
                context=context,
                adapter=None,
                cli_version=self._cli_version,
                dbt_project=params.dbt_project,
            )


# What a parse reads besides the project's files: dbt's own code and the environment it is given.
DBT_DISTRIBUTIONS = ("dbt-core", "dbt-adapters", "dbt-duckdb", "dbt-spark")
# The folders dbt reads files from, where dbt_project.yml names none, and its packages' folder.
DBT_FOLDER_DEFAULTS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
    "docs-paths": [],
    "packages-install-path": "dbt_packages",
}
# Set by the shell or pytest for each command or test, and read by no dbt file: left out of the
# digest so that they do not force a parse.
VOLATILE_VARIABLES = {"PYTEST_CURRENT_TEST", "PWD", "OLDPWD", "SHLVL", "_"}
# Beside the prepared manifest: the digest of the inputs it was parsed from.
PARSE_INPUTS = "parse_inputs.sha256"


def parsed_files() -> list[Path]:
    """Every file dbt may read in a parse: its project and profile files, and every file under the
    folders dbt_project.yml names (Python files and all, which only costs a parse when they change)."""
    config = dbt_project_config()
    folders = set()
    for key, default in DBT_FOLDER_DEFAULTS.items():
        named = config.get(key, default)
        folders.update([named] if isinstance(named, str) else named)
    files = [PROJECT_DIR / name for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")]
    for folder in sorted(folders):
        files.extend(path for path in (PROJECT_DIR / folder).rglob("*") if "__pycache__" not in path.parts)
    return sorted(path for path in files if path.is_file())


def parse_inputs_digest(env: Mapping[str, str]) -> str:
    """SHA-256 of everything a parse with `env` laid over this process's environment reads: two
    parses with the same digest write the same manifest."""
    digest = hashlib.sha256()
    for distribution in DBT_DISTRIBUTIONS:
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{distribution}={version}\0".encode())
    environment = {**os.environ, **env}
    for name in sorted(environment.keys() - VOLATILE_VARIABLES):
        digest.update(f"{name}={environment[name]}\0".encode())
    for path in parsed_files():
        digest.update(f"{path.relative_to(PROJECT_DIR)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_manifest(paths: DataPaths | None = None) -> Path:
    """Parse the project into target/dagster/manifest.json with the dbt beside this Python; the
    parse is also the partial-parse file every build starts from (see seed_partial_parse). dbt
    writes into a folder of this process's own, then each file replaces the old one whole: a
    process loading the definitions meanwhile (another run, a test beside) never reads half a file.
    Parsed for `paths` when given, with the DATA_DIR its builds get (dbt parses again when the
    profile changes); else for the inherited DATA_DIR (`dagster dev`).

    Skipped when nothing a parse reads has changed since the manifest's (`parse_inputs_digest`):
    dbt takes 5 s to find that out, at the start of every Dagster build. One process prepares at a
    time, so the digest beside the manifest is always the one it was parsed from."""
    target = dbt_project.project_dir / dbt_project.target_path
    env = dbt_environment(paths) if paths else target_environment()
    with exclusive_file(target.with_name(f"{target.name}.prepare.lock"), "manifest"):
        digest = parse_inputs_digest(env)
        stamp = target / PARSE_INPUTS
        parsed = [dbt_project.manifest_path, target / "partial_parse.msgpack", stamp]
        if all(path.exists() for path in parsed) and stamp.read_text() == digest:
            return dbt_project.manifest_path
        parsing = target.with_name(f"{target.name}.parsing-{os.getpid()}")
        shutil.rmtree(parsing, ignore_errors=True)
        seed_partial_parse(parsing)
        try:
            DbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
                ["parse", "--quiet"], env=env, target_path=parsing
            ).wait()
            target.mkdir(parents=True, exist_ok=True)
            stamp.unlink(missing_ok=True)
            for produced in parsing.iterdir():
                if produced.is_file():
                    produced.replace(target / produced.name)
            stamp.write_text(digest)
        finally:
            shutil.rmtree(parsing, ignore_errors=True)
    return dbt_project.manifest_path


def ensure_manifest(paths: DataPaths | None = None) -> Path:
    """The manifest, prepared first if this checkout has none (a fresh clone before `make manifest`)."""
    return dbt_project.manifest_path if dbt_project.manifest_path.exists() else prepare_manifest(paths)
