# The single-page app in frontend/: Vite, Preact and TypeScript. Included by
# the Makefile, whose install, lint, test, deploy, delete and clean also do the
# app's part through the prerequisites below.

FRONTEND := frontend
# Where `make dev` serves the app (Vite's dev server); `make dev SITE_PORT=...` moves it.
SITE_PORT ?= {{ cookiecutter.__dev_ports.site }}
NPM := npm --prefix $(FRONTEND)
# npm rewrites this file on every install: it marks node_modules as current.
NODE_MODULES := $(FRONTEND)/node_modules/.package-lock.json
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f) \
	$(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/package-lock.json

.PHONY: frontend-install frontend-lint frontend-test frontend-build frontend-e2e frontend-audit \
	frontend-deploy frontend-empty frontend-clean

install: frontend-install
lint: frontend-lint
test: frontend-test
audit: frontend-audit
{%- if has('pipeline_deploys') %}
# The pipeline builds and publishes the app (post-deploy); `make deploy` only starts it.
post-deploy: frontend-build
{%- elif has('machine_deploys') %}
# A broken build stops the deploy before the stack changes.
deploy: frontend-build
{%- endif %}
delete: frontend-empty
clean: frontend-clean

# Both servers in one terminal; Ctrl-C stops both (the trap stops the API
# whichever way Vite ends). The API allows the app's origins on SITE_PORT, and
# the app's /config.json (vite.config.ts) names the API on PORT.
dev: $(NODE_MODULES) | $(VENV)/pyvenv.cfg  ## Run the app on localhost:SITE_PORT and its API on localhost:PORT
	SITE_ORIGINS=http://localhost:$(SITE_PORT),http://127.0.0.1:$(SITE_PORT) \
		PYTHONPATH=src $(RUN) python -m dev.local serve --port $(PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	API_URL=http://localhost:$(PORT) $(NPM) run dev -- --port $(SITE_PORT)

frontend-install: $(NODE_MODULES)  ## Install the app's pinned packages (npm ci)

$(NODE_MODULES): $(FRONTEND)/package-lock.json
	$(NPM) ci

frontend-lint: $(NODE_MODULES)  ## Type-check and lint the app
	$(NPM) run typecheck
	$(NPM) run lint

frontend-test: $(NODE_MODULES)  ## Run the app's unit tests (Vitest)
	$(NPM) test

frontend-build: $(FRONTEND)/dist/index.html  ## Build the app into frontend/dist; print its initial JS size

$(FRONTEND)/dist/index.html: $(NODE_MODULES) $(FRONTEND_SOURCES)
	$(NPM) run build
	$(NPM) run size

# Needs Chromium or Chrome (CHROME_PATH=/path/to/chrome when it is not in /usr/bin).
# STACK_TEMPLATE defines the distribution: the browser tests route as its CloudFront function does.
# The tests start the API with the environment's Python, installed first.
frontend-e2e: frontend-build | $(VENV)/pyvenv.cfg  ## Browser tests: the built app and the local API in headless Chromium
	uv sync --locked
	API_PYTHON=$(abspath $(VENV))/bin/python STACK_TEMPLATE=$(abspath $(STACK_TEMPLATE)) $(NPM) run test:e2e

frontend-audit: $(NODE_MODULES)  ## Report known high or critical vulnerabilities in the app's runtime packages
	$(NPM) audit --omit=dev --audit-level=high

frontend-deploy: frontend-build | $(VENV)/pyvenv.cfg  ## Upload the app to STAGE, write its config.json, invalidate CloudFront
	$(RUN) python -m frontend.deploy publish --stack-name $(STACK) --region $(REGION)

# CloudFormation deletes only an empty bucket.
frontend-empty: | $(VENV)/pyvenv.cfg
	$(RUN) python -m frontend.deploy empty --stack-name $(STACK) --region $(REGION)

frontend-clean:
	rm -rf $(FRONTEND)/dist
