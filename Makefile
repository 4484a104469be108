# The README's commands. Each creates .venv and installs the project if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA_DIR ?= data
# Runs made by `make run` show up in `make dev`, because both use this instance.
export DAGSTER_HOME ?= $(abspath $(DATA_DIR))/dagster

.PHONY: install run test lint dev contracts clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

run: install
	$(BIN)/commerce-analytics run

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	$(BIN)/sqlfluff lint models macros tests --nocolor

test: lint
	$(BIN)/pytest

dev: install
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000

contracts: install
	$(BIN)/commerce-analytics contracts

clean:
	rm -rf target logs $(DATA_DIR)/inbox $(DATA_DIR)/raw $(DATA_DIR)/quarantine $(DATA_DIR)/manifest \
		$(DATA_DIR)/generator $(DATA_DIR)/dagster $(DATA_DIR)/*.duckdb
