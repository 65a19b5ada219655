# Two entry points: `make run` (local mode) and `make test` (everything). Both build the venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quarantine screenshots venv run test test-large lint typecheck importlint unit integration infra-test e2e layer lock tools synth diff deploy destroy bench localload demo clean

# The deploy toolchain (package.json, package-lock.json): the AWS CDK CLI and, on Linux x64/arm64, the
# Node.js it runs on, installed into node_modules/ by `npm ci`. Context values pass through CONTEXT,
# e.g. make synth CONTEXT="-c senderAddress=billing@acme.example -c sesIdentity=acme.example".
NODE_BIN := $(CURDIR)/node_modules/.bin
NODE_STAMP := node_modules/.installed
CONTEXT ?=
CDK := PATH="$(NODE_BIN):$$PATH" $(NODE_BIN)/cdk

$(STAMP): requirements.txt requirements-dev.txt requirements-checkov.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# checkov pins a boto3 that cannot share the environment: its own virtualenv inside .venv.
	test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
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

# Quarantined SES records: list them, re-drive them after a fix (tracker/admin/quarantine.py; docs/operations.md).
# Local mode by default (make run writes .run/local.env); TARGET=aws uses TABLE_NAME, EVENTS_QUEUE_URL and your credentials.
quarantine: $(STAMP)
	@set -a; if [ "$(TARGET)" != "aws" ] && [ -f .run/local.env ]; then . ./.run/local.env; fi; set +a; \
	PYTHONPATH=functions $(BIN)/python -m tracker.admin.quarantine $(ARGS)

# The dashboard's screenshots in docs/screenshots/ (the README links them), from the browser tests.
screenshots: $(STAMP)
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/e2e/test_dashboard.py tests/e2e/test_dashboard_attention.py

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# The large-message test at 100,000 recipients (docs/sending.md; the suite runs it at 1,000).
test-large: $(STAMP)
	LARGE_SEND_RECIPIENTS=100000 LARGE_SEND_BATCH_ROWS=1000 $(BIN)/pytest tests/integration/test_send_large.py -p no:randomly

integration: $(STAMP)
	$(BIN)/pytest tests/integration

run: $(STAMP)
	$(BIN)/python -m local

clean:
	rm -rf $(VENV) cdk.out layers/build node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Lambda dependency layer (layers/requirements.lock, manylinux aarch64 wheels, hashes checked) into layers/build/; no Docker.
layer: $(STAMP)
	$(BIN)/python layers/build_layer.py

# Recompile the layer's hashed lock after changing requirements.txt.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.txt --generate-hashes --python-version 3.14 \
	  --python-platform aarch64-manylinux_2_28 --custom-compile-command "make lock" \
	  --output-file layers/requirements.lock

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The pinned CLI on a Node.js it supports: node_modules' own on Linux, else the machine's (22 or 24).
tools: $(NODE_STAMP)
	@major=$$(PATH="$(NODE_BIN):$$PATH" node -p 'process.versions.node.split(".")[0]'); \
	case "$$major" in 22|24) ;; *) echo "error: the CDK CLI needs Node.js 22 or 24, found" \
	  "$$(PATH="$(NODE_BIN):$$PATH" node --version); package.json installs Node 24 on Linux x64 and" \
	  "arm64 only: install Node.js 24 on this machine" >&2; exit 1;; esac
	@echo "cdk $$($(CDK) --version) on node $$(PATH="$(NODE_BIN):$$PATH" node --version)"

# Deploying needs AWS credentials (any the SDK finds: environment, profile, SSO, instance role).
define require_credentials
	@$(BIN)/python -c 'import boto3, sys; sys.exit(boto3.Session().get_credentials() is None)' || { \
	  echo "error: no AWS credentials found: run 'aws configure' or 'aws sso login', or set AWS_PROFILE" \
	  "(docs/deploy.md, \"What you need\")" >&2; exit 1; }
endef

# Synthesize offline into cdk.out/ with the pinned CLI (builds the layer when missing; cdk-nag runs
# during synth). Needs the deploy context: CONTEXT="-c senderAddress=... -c sesIdentity=...".
synth: $(STAMP) tools
	$(CDK) synth --quiet $(CONTEXT)

diff: $(STAMP) tools
	@echo "+ cdk diff $(CONTEXT)"
	$(require_credentials)
	$(CDK) diff $(CONTEXT)

deploy: $(STAMP) tools
	@echo "+ cdk deploy $(CONTEXT)"
	$(require_credentials)
	$(CDK) deploy $(CONTEXT)

destroy: $(STAMP) tools
	@echo "+ cdk destroy $(CONTEXT)"
	$(require_credentials)
	$(CDK) destroy $(CONTEXT)

# Benchmarks (not part of `make test`): DynamoDB requests, capacity, latency, hot items, cold start,
# read cost and cost per million SES events, against a naive baseline in the same run (README,
# "Benchmarks"). Options pass through ARGS, e.g. `make bench ARGS="--recipients 100000"`.
bench: $(STAMP)
	PYTHONPATH=functions:. $(BIN)/python -m bench $(ARGS)

# Local mode under load, end to end over HTTP (not part of `make test`, which runs a small version):
# events/s, the time to drain, a 500-recipient send, peak memory and the Ctrl+C stop time beside the
# goals (README, "Local mode under load"). Options pass through ARGS, e.g. ARGS="--events 10000 --recipients 1000".
localload: $(STAMP)
	PYTHONPATH=functions:. $(BIN)/python -m bench.localload $(ARGS)
