# Built and deployed with Zappa: zappa_settings.json for the function and its
# HTTP API, infra/stack.yaml (one CloudFormation stack per stage) for the rest.

CFN_TEMPLATES := infra/stack.yaml
# Zappa is pinned in requirements-dev.txt. CI or a shared cache may point
# ZAPPA_ENV at another virtualenv of the runtime's Python that has it.
ZAPPA_ENV ?= $(VENV)
ZAPPA := $(ZAPPA_ENV)/bin/zappa
ZAPPA_SOURCE := $(ZAPPA_ENV)/lib/python$(PYTHON_VERSION)/site-packages/zappa
# Zappa's Lambda entry point (Handler: handler.lambda_handler), and what it
# imports at run time; the rest of Zappa deploys, and stays here.
ZAPPA_HANDLER := handler
ZAPPA_RUNTIME_MODULES := __init__ $(ZAPPA_HANDLER) middleware utilities wsgi asgi

# Zappa packs the virtualenv it runs in (VIRTUAL_ENV) and the current
# directory. It runs in a virtualenv laid out for it here, holding only what
# Lambda needs (the app, its dependencies as wheels for Lambda, Zappa's
# handler, all as bytecode); zappa_settings.json's exclude leaves out the
# project's own files. Zappa's precompiled-package download stays off: it
# would need PyPI, and without it Zappa silently packs this machine's binaries.
BUILD_DIR := .zappa
PACKED_ENV := $(BUILD_DIR)/packed
SITE_PACKAGES := $(PACKED_ENV)/lib/python$(PYTHON_VERSION)/site-packages
PACKAGE_ZIP := $(BUILD_DIR)/$(STAGE).zip
# The zip unpacked, as Lambda's /var/task holds it: what `make invoke` runs.
PACKAGE_DIR := $(BUILD_DIR)/package
# boto3 as the Lambda runtime provides it (Zappa's handler imports it), for `make invoke`.
RUNTIME_SDK := $(BUILD_DIR)/runtime-sdk
SOURCES := $(shell find src -type f -not -path '*/__pycache__/*')

# The stack's parameters per stage, as `aws cloudformation deploy` takes them.
{%- if cookiecutter.storage == 'rds' %}
# Add the stage's network: VpcId=vpc-... PrivateSubnetIds=subnet-...,subnet-... (README.md, "Deploy").
STACK_PARAMETERS_dev := Stage=dev
# Production runs a standby instance in a second Availability Zone.
STACK_PARAMETERS_prod := Stage=prod DatabaseMultiAz=true
{%- else %}
STACK_PARAMETERS_dev := Stage=dev
STACK_PARAMETERS_prod := Stage=prod
{%- endif %}

.PHONY: build stack deploy logs rollback delete zappa-clean

clean: zappa-clean

build: $(PACKAGE_ZIP)  ## Build STAGE's package (zappa package) if sources changed

$(PACKAGE_ZIP): zappa_settings.json requirements.txt Makefile deploy.mk $(SOURCES) | $(ZAPPA) $(BUILD_PYTHON)
	rm -rf $(PACKED_ENV) $(PACKAGE_DIR)
	$(call pack-dependencies,$(SITE_PACKAGES))
	$(call pack-app,$(SITE_PACKAGES))
	@# Zappa copies its handler module to the package's root and leaves out a
	@# source that has a newer .pyc beside it: the bytecode goes there, with
	@# the modules it imports.
	mkdir -p $(SITE_PACKAGES)/zappa
	cp $(foreach module,$(ZAPPA_RUNTIME_MODULES),$(ZAPPA_SOURCE)/$(module).py) $(SITE_PACKAGES)/zappa/
	mv $(SITE_PACKAGES)/zappa/$(ZAPPA_HANDLER).py $(SITE_PACKAGES)/
	$(BUILD_PYTHON) -m compileall -q -b --invalidation-mode unchecked-hash $(SITE_PACKAGES)/zappa $(SITE_PACKAGES)/$(ZAPPA_HANDLER).py
	find $(SITE_PACKAGES)/zappa $(SITE_PACKAGES)/$(ZAPPA_HANDLER).py -name '*.py' -delete
	VIRTUAL_ENV=$(abspath $(PACKED_ENV)) $(ZAPPA) package $(STAGE) --output $(PACKAGE_ZIP)
	@# What Zappa adds to the zip: its settings module, made bytecode too, and empty
	@# __init__.py files that would hide packages' bytecode, left out. Then the zip unpacked.
	$(BUILD_PYTHON) -m dev.zappa_package $(PACKAGE_ZIP) $(PACKAGE_DIR)

$(VENV)/bin/zappa: | $(VENV)/.installed

# Needs the AWS CLI and credentials. Once everything is built, the stack (the
# function's role, store and packages bucket), then the function:
# dev/zappa_stage.py gives Zappa zappa_settings.json's stage plus what the
# stack's outputs say, runs `zappa deploy` the first time and `zappa update`
# after, and records the API's URL in the stack.
{%- if cookiecutter.secrets == 'ssm' %}
stack:  ## Create or update STAGE's stack alone (what Zappa does not create); run `make secrets` once per stage first
	aws cloudformation deploy --region $(REGION) --stack-name $(STACK) --template-file $(STACK_TEMPLATE) \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides $(STACK_PARAMETERS_$(STAGE)) --tags project={{ cookiecutter.project_slug }} stage=$(STAGE)

deploy: build | $(VENV)/.installed  ## Deploy STAGE (dev|prod): its stack, then the function
	$(MAKE) --no-print-directory stack STAGE=$(STAGE)
	$(VENV)/bin/python -m dev.zappa_stage deploy $(STAGE) --package $(PACKAGE_ZIP) --zappa $(ZAPPA)
{%- else %}
# The secrets of .env.example come from ENV_FILE or the environment, and are checked before
# anything is deployed. dev/stage_secrets.py hands the stack its parameters on the standard
# input of `aws cloudformation deploy`{% if cookiecutter.storage == 'rds' %} (the database's password among them){% endif %}, never on its command line;
# Zappa gets the function's in a settings file only you can read (dev/zappa_stage.py).
stack: | $(VENV)/.installed  ## Create or update STAGE's stack alone (what Zappa does not create), with the secrets of .env
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(VENV)/bin/python -m dev.stage_secrets stack $(STACK_PARAMETERS_$(STAGE)) --env-file $(ENV_FILE) -- \
		aws cloudformation deploy --region $(REGION) --stack-name $(STACK) --template-file $(STACK_TEMPLATE) \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides file:///dev/stdin --tags project={{ cookiecutter.project_slug }} stage=$(STAGE)

deploy: build | $(VENV)/.installed  ## Deploy STAGE (dev|prod): its stack, then the function, with the secrets of .env
	$(MAKE) --no-print-directory stack STAGE=$(STAGE)
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(VENV)/bin/python -m dev.zappa_stage deploy $(STAGE) --package $(PACKAGE_ZIP) --zappa $(ZAPPA)
{%- endif %}
{%- if cookiecutter.storage == 'rds' %}
	$(MAKE) --no-print-directory migrate STAGE=$(STAGE)
{%- endif %}
{%- if cookiecutter.frontend == 'spa' %}
	$(MAKE) --no-print-directory frontend-deploy
{%- endif %}

logs: | $(ZAPPA)  ## Tail STAGE's function logs (zappa tail)
	$(ZAPPA) tail $(STAGE) --since 1h

rollback: | $(ZAPPA)  ## Put STAGE's function back on its previous code (zappa rollback)
	$(ZAPPA) rollback $(STAGE) --num-rollback 1

# The function and its API first (zappa undeploy), then the stack.
delete: | $(ZAPPA)  ## Delete STAGE: the function, its API and its stack ({% if cookiecutter.storage == 'rds' %}the database is snapshotted; see README.md first{% else %}its table is retained{% endif %})
	$(ZAPPA) undeploy $(STAGE) --yes
	aws cloudformation delete-stack --region $(REGION) --stack-name $(STACK)
	aws cloudformation wait stack-delete-complete --region $(REGION) --stack-name $(STACK)
{%- if cookiecutter.storage == 'rds' %}

# `make migrate STAGE=...`: the migrations run in the stage's function, inside the VPC.
migrate-stage = $(ZAPPA) invoke $(STAGE) $(PACKAGE).migrate.zappa_invoke \
	$(if $(DOWNGRADE),--payload '$(DOWNGRADE_PAYLOAD)')
DOWNGRADE_PAYLOAD = {"migration": "downgrade", "revision": "$(DOWNGRADE)"}
{%- endif %}

zappa-clean:
	rm -rf $(BUILD_DIR)
