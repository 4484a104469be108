# The README's commands. Each creates .venv and installs the project if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint dev generate land clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

run: install
	$(BIN)/commerce-analytics run

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests

test: lint
	$(BIN)/pytest

dev: install
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000

clean:
	rm -rf target logs data/inbox data/raw data/quarantine data/manifest data/generator data/*.duckdb
