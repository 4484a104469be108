# The README's commands. Each creates .venv and installs the project if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA_DIR ?= data
# Runs made by `make run` show up in `make dev`, because both use this instance.
export DAGSTER_HOME ?= $(abspath $(DATA_DIR))/dagster

.PHONY: install install-spark run test test-duckdb test-spark lint dev contracts manifest docs clean bench serve browser

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

# The Spark target (DBT_TARGET=spark): dbt-spark and PySpark from the optional extra, and a Java 17
# runtime from the operating system's OpenJDK, installed with apt when no `java` is on the PATH.
SPARK_INSTALLED := $(VENV)/.installed-spark

install-spark: $(SPARK_INSTALLED)

$(SPARK_INSTALLED): $(INSTALLED)
	command -v java >/dev/null || (apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $(SPARK_INSTALLED)

# The instance's settings (the warehouse pool) live in the repository.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/commerce-analytics run

# The dbt manifest Dagster loads the models from (target/dagster/, never committed); `run` and
# `dagster dev` refresh it themselves, the tests load it as it is.
manifest: install
	$(BIN)/commerce-analytics prepare

# The dbt docs site, static, in target/docs/ (open static_index.html: manifest and catalogue inlined).
# Parsed, not compiled, with an empty catalogue, in a data folder of its own: no warehouse needed or
# touched. The project's flags turn usage stats off: dbt's page then loads no tracker from its CDN
# (see docs/dbt-docs.md).
docs: install
	docs_data=$$(mktemp -d) && export DATA_DIR=$$docs_data && \
		$(BIN)/dbt parse --quiet --target-path target/docs && \
		$(BIN)/dbt docs generate --quiet --no-compile --empty-catalog \
			--static --target-path target/docs; \
		status=$$?; rm -rf $$docs_data; exit $$status

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	# every division through ratio(): the house rule sqlfluff cannot express
	$(BIN)/pytest -q -p no:cacheprovider tests/test_sql_style.py
	# dbt's templater renders is_incremental() from the warehouse it finds; a data folder holding
	# only the seed the bot classifier compiles from makes lint judge the same SQL in every checkout,
	# whatever `make run` has built.
	lint_data=$$(mktemp -d) && export DATA_DIR=$$lint_data && \
		$(BIN)/dbt seed --quiet --select bot_user_agent_patterns --target-path $$lint_data/target && \
		$(BIN)/sqlfluff lint models macros tests --nocolor --processes 2; \
		status=$$?; rm -rf $$lint_data; exit $$status

# The dashboard tests drive the operating system's Chromium (never a downloaded browser build).
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

# `test` runs every check: DuckDB, dashboard, browser and the Spark parity suite (one dbt build of a
# small dataset on Spark with its data and unit tests, every mart compared with DuckDB's). Two
# workers, one per core, each taking whole test files (tests/conftest.py says which share one); the
# Spark file starts first, beside the DuckDB files, as the longest.
test: lint manifest browser install-spark
	$(BIN)/pytest -n 2 --durations=12

# The same without Spark, for iteration (no JDK, no JVM start).
test-duckdb: lint manifest browser
	$(BIN)/pytest -m "not spark" -n 2

test-spark: manifest install-spark
	$(BIN)/pytest -m spark

# The read API and dashboards on http://127.0.0.1:8000/ (SERVE="--host 0.0.0.0 --port 8080" to change).
serve: install
	$(BIN)/commerce-analytics serve $(SERVE)

dev: install $(DAGSTER_HOME)/dagster.yaml
	DATA_DIR=$(abspath $(DATA_DIR)) $(BIN)/dagster dev --host 127.0.0.1 --port 3000

# Issue 7's benchmark at its default scale; pass options as BENCH="--days 7 --events-per-day 100000".
bench: install
	$(BIN)/commerce-analytics bench $(BENCH)

contracts: install
	$(BIN)/commerce-analytics contracts

clean:
	rm -rf target logs $(DATA_DIR)/inbox $(DATA_DIR)/raw $(DATA_DIR)/quarantine $(DATA_DIR)/manifest \
		$(DATA_DIR)/generator $(DATA_DIR)/dagster $(DATA_DIR)/*.duckdb $(DATA_DIR)/dbt $(DATA_DIR)/logs \
		$(DATA_DIR)/alerts $(DATA_DIR)/locks $(DATA_DIR)/warehouse.build.json
