# Two entry points: `make run` (local mode) and `make test` (everything). Both build the venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint typecheck importlint unit integration infra-test e2e layer synth bench demo clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The layer contracts in pyproject.toml ([tool.importlinter]): handlers -> bootstrap -> api -> dal -> logic -> domain.
importlint: $(STAMP)
	PYTHONPATH=functions $(BIN)/lint-imports --no-cache

test: $(STAMP) lint typecheck importlint
	$(BIN)/pytest -n 2 --dist loadgroup

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

run: $(STAMP)
	$(BIN)/python -m local

clean:
	rm -rf $(VENV) cdk.out layers/build .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Lambda dependency layer (pinned requirements.txt as manylinux aarch64 wheels) into layers/build/; no Docker.
layer: $(STAMP)
	$(BIN)/python layers/build_layer.py

# Synthesize the CDK app into cdk.out/ offline (builds the layer when missing; cdk-nag runs during synth).
synth: $(STAMP) layer
	$(BIN)/python app.py

# Benchmarks (not part of `make test`): DynamoDB requests, capacity, latency, hot items, cold start,
# read cost and cost per million SES events, against a naive baseline in the same run (README,
# "Benchmarks"). Options pass through ARGS, e.g. `make bench ARGS="--recipients 100000"`.
bench: $(STAMP)
	PYTHONPATH=functions:. $(BIN)/python -m bench $(ARGS)
