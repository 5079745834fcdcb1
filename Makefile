# The template's own tasks. CI runs `.ci/run`, which runs `make install lint test`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Caches live outside the repository: the generated projects' virtualenvs,
# mypy caches and the pinned external tools.
CACHE_DIR ?= $(or $(SERVERLESS_FLASK_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/serverless-flask)
TOOLS_DIR := $(CACHE_DIR)/tools
export SERVERLESS_FLASK_CACHE := $(CACHE_DIR)
# Never let uv download an interpreter behind our back: the tiers need the
# Pythons the generated projects target (3.12, 3.13) to be installed.
export UV_PYTHON_DOWNLOADS ?= never

# SAM CLI and checkov pin conflicting dependencies, so each is an isolated uv
# tool, compiled: the tiers run them with PYTHONDONTWRITEBYTECODE, which would
# otherwise recompile every module at every start. TOOLS_PYTHON is the
# interpreter they run on.
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
TOOLS_PYTHON ?= 3.11

UV_RUN := uv run --frozen
# The template's own Python; {{cookiecutter.project_slug}}/ is linted after rendering, by the render tier.
LINT_PATHS := hooks tests bench serverless_flask_jinja.py
# A tier's deselection, for the targets below.
FAST := not install and not build and not deploy and not fuzz
# The tiers whose tests take combinations: what `make validate` runs for one.
VALIDATE_TIERS := tests/test_render.py tests/test_build.py tests/test_deploy.py $(sort $(wildcard tests/test_backend_*.py))

.PHONY: help install tools test test-fast validate lint matrix stats lock clean clean-cache

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 14

# Compiled: the tiers import moto, cookiecutter and boto3 in many short-lived processes.
install: tools  ## Install the template's environment (.venv) and the pinned SAM CLI and checkov
	uv sync --frozen --compile-bytecode

tools: $(TOOLS_DIR)/.sam-$(SAM_CLI_VERSION) $(TOOLS_DIR)/.checkov-$(CHECKOV_VERSION)  ## Install only SAM CLI and checkov

$(TOOLS_DIR)/.sam-$(SAM_CLI_VERSION):
	UV_TOOL_DIR=$(TOOLS_DIR)/tools UV_TOOL_BIN_DIR=$(TOOLS_DIR)/bin UV_COMPILE_BYTECODE=1 \
		uv tool install --force --python $(TOOLS_PYTHON) aws-sam-cli==$(SAM_CLI_VERSION)
	rm -f $(TOOLS_DIR)/.sam-* && touch $@

$(TOOLS_DIR)/.checkov-$(CHECKOV_VERSION):
	UV_TOOL_DIR=$(TOOLS_DIR)/tools UV_TOOL_BIN_DIR=$(TOOLS_DIR)/bin UV_COMPILE_BYTECODE=1 \
		uv tool install --force --python $(TOOLS_PYTHON) checkov==$(CHECKOV_VERSION)
	rm -f $(TOOLS_DIR)/.checkov-* && touch $@

test: tools  ## Run every tier: hooks, render (all combinations, with one from-scratch install) and build
	$(UV_RUN) pytest $(PYTEST_ARGS)

test-fast: tools  ## Hooks, answers and render tiers, without the from-scratch install, the build, deploy and fuzz tiers
	$(UV_RUN) pytest -m "$(FAST)" $(PYTEST_ARGS)

validate: tools  ## One combination end to end, by COMBINATION=<name> (see `make matrix`) or ANSWERS='<json>'
	@if [[ -n "$(COMBINATION)" && -n "$${ANSWERS:-}" ]]; then \
		echo "error: give COMBINATION or ANSWERS, not both" >&2; exit 2; fi
	@if [[ -z "$${SERVERLESS_FLASK_COMBINATION:-}" ]]; then \
		echo "error: make validate COMBINATION=<name> | ANSWERS='{\"deployment\": \"zappa\", ...}'" >&2; exit 2; fi
	@$(UV_RUN) python -m tests.combinations --selected --json
	$(UV_RUN) pytest -m "not install" $(VALIDATE_TIERS) $(PYTEST_ARGS)
# Every tier reads it (tests/combinations.py): render, tests, build and invoke of that one
# combination, the same tests the full run runs. Exported, so JSON needs no shell quoting.
validate: export SERVERLESS_FLASK_COMBINATION = $(or $(COMBINATION),$(ANSWERS))

lint:  ## ruff and mypy on hooks/, tests/, bench/ and the Jinja extension; actionlint on the template's CI workflow
	$(UV_RUN) ruff check $(LINT_PATHS)
	$(UV_RUN) ruff format --check $(LINT_PATHS)
	$(UV_RUN) mypy
	$(UV_RUN) actionlint .github/workflows/*.yml

matrix:  ## Print the combinations as one line of JSON (the CI matrix)
	@$(UV_RUN) python -m tests.combinations --json

stats:  ## Count the Jinja tags, and the conditions on an option's value, in the template's files
	@$(UV_RUN) python -m tests.template_stats $(STATS_ARGS)

lock:  ## Re-lock the generated projects' uv.lock, one per set of dependencies (needs the index)
	$(UV_RUN) python -m tests.locks $(LOCK_ARGS)

clean:  ## Remove the template's environment and the caches inside the repository
	rm -rf .venv .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-cache:  ## Remove the shared caches outside the repository (envs, mypy caches, tools)
	rm -rf $(CACHE_DIR)
