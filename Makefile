# tokfrag: `make run` (pipeline on the default dataset) and `make test` (the suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(CURDIR)/$(VENV)/bin
MLFLOW_PORT  ?= 5000
PREFECT_PORT ?= 4200

# The real datasets: a local mirror beside the project when there is one (as in CI).
ifneq ($(wildcard ../shared/data),)
export TOKFRAG_DATA_MIRROR ?= $(abspath ../shared/data)
endif
export PATH := $(BIN):$(PATH)
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export DO_NOT_TRACK := 1

.PHONY: help install run flow test test-postgres test-all lint bench bench-quick ui mlflow-ui prefect-ui clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,pretrained]'
	touch $@

install: $(VENV)/.installed ## create .venv and install tokfrag with its dev tools

run: install ## run the pipeline on the default dataset (dvc repro) and print the comparison
	dvc repro
	tokfrag summary

flow: install ## the pipeline as a Prefect flow (PREFECT_API_URL=... to watch it in a server's UI)
	tokfrag run

test: install ## run the test suite (real data, real stores; about 38 minutes on 2 cores)
	pytest -m "not slow" -q --durations=25

test-postgres: install ## the tests against a real PostgreSQL server (started, then stopped)
	pytest -m postgres -q

test-all: install ## the suite including tests marked slow
	pytest -q

lint: install ## ruff over the code and the tests; mypy (families/ and train/ strict)
	ruff check tokfrag flows tasks tests bench
	ruff format --check tokfrag flows tasks tests bench
	mypy

bench: install ## every benchmark suite -> bench/results/*.json, then BENCHMARKS.md
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	python bench/seeds.py chickenpox los_loop mr trec sms_spam
	python bench/missing.py
	python bench/tokens.py
	python bench/fragments.py
	python bench/tuning.py
	python bench/orchestration.py
	python bench/speed.py --label after
	python bench/report.py

bench-quick: install ## smoke runs of tokens, fragments, speed -> bench/results/*-quick.json
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	python bench/tokens.py --quick
	python bench/fragments.py --quick
	python bench/speed.py --quick --label after

ui: install ## Prefect server + UI and MLflow UI on 127.0.0.1 (Ctrl-C stops both)
	tokfrag ui --prefect-port $(PREFECT_PORT) --mlflow-port $(MLFLOW_PORT)

mlflow-ui: install ## the MLflow UI on the local store: http://127.0.0.1:$(MLFLOW_PORT)
	mlflow ui --backend-store-uri sqlite:///mlruns.db --default-artifact-root ./mlartifacts \
	  --host 127.0.0.1 --port $(MLFLOW_PORT)

prefect-ui: install ## a Prefect server + UI on http://127.0.0.1:$(PREFECT_PORT)
	prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

clean: ## remove outputs and local stores (keeps .venv)
	rm -rf data outputs mlruns.db mlartifacts .prefect .dvc/cache .dvc/tmp
