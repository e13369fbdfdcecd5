# Inboxdesk: `make dev` runs the whole system on this machine, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: install dev test lint format typecheck unit integration infra-tests build synth bootstrap deploy destroy bench pr clean

install: $(STAMP) $(NODE_STAMP)

# The first install downloads about 150 packages and takes two to four minutes; later runs, seconds.
$(STAMP): pyproject.toml
	@echo '==> install 1/3: the virtual environment $(VENV)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@echo '==> install 2/3: Inboxdesk and its development dependencies (pip, two to four minutes the first time)'
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json
	@echo '==> install 3/3: the CDK command line into node_modules (npm, about a minute the first time)'
	npm install --no-audit --no-fund --progress=true
	@touch $@

dev: install
	$(BIN)/inboxdesk dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/inboxdesk/python/inboxdesk inboxdesk_cli functions infra bench

typecheck: install
	$(BIN)/mypy layers/inboxdesk/python/inboxdesk inboxdesk_cli functions infra bench

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

infra-tests: install
	$(BIN)/pytest tests/infra

test: install lint
	$(BIN)/pytest

# The dependencies layer for arm64 Lambda, built without Docker from manylinux wheels (AWS SDK left to the runtime).
build: install .build/deps/.built

.build/deps/.built: layers/deps/requirements.txt infra/build_layer.py
	$(BIN)/python -m infra.build_layer .build/deps/python
	touch $@

synth: build
	npx cdk synth --no-notices

bootstrap: install
	npx cdk bootstrap --no-notices

deploy: build
	npx cdk deploy --no-notices

destroy: install
	npx cdk destroy --no-notices

bench: install
	$(BIN)/python -m bench

pr: lint test

clean:
	rm -rf $(VENV) node_modules cdk.out .build .mypy_cache .ruff_cache
