"""Resources shared by the assets, checks and jobs: the dbt CLI of this project, and the settings.

Settings reach Dagster code as a resource, read from the environment by Dagster when a run
starts (`dg.EnvVar`), never by the modules themselves: those are functions of `DataPaths`. The
CLI runs jobs with the settings its `main()` read (runner.run_job).
"""

from pathlib import Path

import dagster as dg

from orchestration.dbt_project import DBT_EXECUTABLE, DbtCli, dbt_project
from orchestration.settings import DataPaths


class Settings(dg.ConfigurableResource):
    """Where the data lives.

    Not the partitions start: it shapes the asset graph, so it is read once, where the daily
    partitions are defined (`defs/partitions.py`), before any resource exists.
    """

    data_dir: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.data_dir).resolve())

    @classmethod
    def of(cls, paths: DataPaths) -> "Settings":
        """The settings of a run the CLI starts on `paths`."""
        return cls(data_dir=str(paths.root))


# Dagster runs (`dagster dev`, schedules, sensors) read DATA_DIR when they start.
settings = Settings(data_dir=dg.EnvVar("DATA_DIR"))
SETTINGS = {"settings": settings}

resources = {"dbt": DbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE), **SETTINGS}
