# Two commands matter: `make dev` runs the whole platform on this machine, `make test` checks everything.
# Both bootstrap what they need from nothing but Python 3.11 (and, for later parts, Node.js 20).

# The interpreter itself, not a shim: uv rebuilds .venv whenever the interpreter path changes.
PYTHON ?= $(shell python3.11 -c 'import sys; print(sys.executable)' 2>/dev/null || python3 -c 'import sys; print(sys.executable)')
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# jsii names the Node.js major it is told is known to be end-of-life (Node 20 is, since 2026-10).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: dev test lint fmt typecheck pytest schema bench install clean synth web-check

$(UV):
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The lock file pins every dependency; --frozen refuses to run if pyproject.toml and uv.lock disagree.
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --quiet --frozen --extra local --extra infra --python $(PYTHON)
	touch $@

# The SPA's WebSocket client (graphql-ws, from npm) that the end-to-end tests drive the realtime gateway with.
WS_CLIENT := tests/e2e/ws_client
$(WS_CLIENT)/node_modules/.package-lock.json: $(WS_CLIENT)/package.json $(WS_CLIENT)/package-lock.json
	cd $(WS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error

# The SPA (web/): npm ci from its lock file, then the production build that `vehicle-platform dev` serves.
WEB := web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
$(WEB)/dist/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run build --silent

install: $(VENV)/.installed $(WS_CLIENT)/node_modules/.package-lock.json $(WEB)/dist/index.html

dev: install
	$(BIN)/vehicle-platform dev

test: install lint typecheck synth web-check pytest

# The SPA's ESLint, tsc --noEmit (strict), Vitest, and the drift check of its generated operations (web/src/gql).
web-check: install
	cd $(WEB) && npm run check --silent

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

# The CDK app's CloudFormation templates in infra/cdk/cdk.out/, the Lambda asset built for arm64 on this machine:
# no Docker, no CDK CLI, no AWS access. cdk-nag's unsuppressed findings fail it. A deployment names its PSP
# (`-c pixApiUrl=... -c pixTokenUrl=... -c pixKey=...`); this offline synthesis names a placeholder one.
SYNTH_PSP_CONTEXT = {"pixApiUrl": "https://psp.example/api/v2", "pixTokenUrl": "https://psp.example/oauth/token", "pixKey": "pix@dealership.example"}
synth: install
	cd infra/cdk && CDK_CONTEXT_JSON='$(SYNTH_PSP_CONTEXT)' ../../$(BIN)/python app.py

schema: install
	$(BIN)/python -m graphql_api.export_schema > schema.graphql

bench: install
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.graphql_latency
	$(BIN)/python -m bench.validation
	$(BIN)/python -m bench.saga
	$(BIN)/python -m bench.realtime
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.package_size
	$(BIN)/python -m bench.browser

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
