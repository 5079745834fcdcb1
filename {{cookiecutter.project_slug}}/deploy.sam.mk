# Built and deployed with the SAM CLI: template.yaml, settings per stage in samconfig.toml.
#
# What the Makefile expects of deploy.mk, and this file provides:
#   targets    build (the artifact, laid out by the Makefile's PACK), deploy, delete, logs{% if cookiecutter.storage == 'rds' %},
#              migrate-stage{% endif %}
#   variables  CFN_TEMPLATES (what `make lint` checks), RUNTIME_SDK (where `make invoke` finds boto3)
# It may add prerequisites to install, lint and clean (sam.mk does).

TEMPLATE := template.yaml
CFN_TEMPLATES := template.yaml

include sam.mk

.PHONY: deploy delete
{%- if cookiecutter.secrets == 'ssm' %}

deploy: build  ## Deploy STAGE (dev|prod); run `make secrets` once per stage first
	$(SAM) deploy --config-env $(STAGE)
{%- else %}

# The secrets become NoEcho stack parameters; they are never written to samconfig.toml.
# Overrides on the command line replace samconfig.toml's, so the stage's own
# (parameter_overrides under [STAGE.deploy.parameters]) are passed along.
deploy: build  ## Deploy STAGE (dev|prod) with the secrets of .env.example from .env or the environment
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	: "$${CURSOR_SIGNING_KEY:?is not set: put it in $(ENV_FILE) (see .env.example) or the environment}"; \
{%- if cookiecutter.storage == 'rds' %}
	: "$${DATABASE_PASSWORD:?is not set: put it in $(ENV_FILE) (see .env.example) or the environment}"; \
{%- endif %}
	parameters="$$($(RUN) python -c 'import sys, tomllib; \
		print(tomllib.load(open("samconfig.toml", "rb"))[sys.argv[1]]["deploy"]["parameters"]["parameter_overrides"])' \
		$(STAGE))"; \
	echo "$(SAM) deploy --config-env $(STAGE) --parameter-overrides $$parameters CursorSigningKey=*** AdminToken=***{% if cookiecutter.storage == 'rds' %} DatabaseMasterPassword=***{% endif %}"; \
	$(SAM) deploy --config-env $(STAGE) --parameter-overrides $$parameters \
		"CursorSigningKey=$$CURSOR_SIGNING_KEY" "AdminToken=$${ADMIN_TOKEN:-}"{% if cookiecutter.storage == 'rds' %} "DatabaseMasterPassword=$$DATABASE_PASSWORD"{% endif %}
{%- endif %}
{%- if cookiecutter.storage == 'rds' %}
	$(MAKE) --no-print-directory migrate-stage STAGE=$(STAGE)
{%- endif %}
{%- if cookiecutter.frontend == 'spa' %}
	$(MAKE) --no-print-directory frontend-deploy
{%- endif %}

delete: | $(SAM)  ## Delete STAGE's stack ({% if cookiecutter.storage == 'rds' %}the database is snapshotted; see README.md first{% else %}its table is retained{% endif %})
	$(SAM) delete --config-env $(STAGE)
