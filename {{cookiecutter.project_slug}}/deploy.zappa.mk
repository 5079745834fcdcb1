# Built and deployed with Zappa: zappa_settings.json for the function and its
# HTTP API, infra/stack.yaml (one CloudFormation stack per stage) for the rest.
#
# What the Makefile expects of deploy.mk, and this file provides:
#   targets    build (the artifact, laid out by the Makefile's PACK), deploy, delete, logs{% if has('sql_store') %},
#              migrate-stage{% endif %}
#   variables  CFN_TEMPLATES (what `make lint` checks), RUNTIME_SDK (where `make invoke` finds boto3)
# It may add prerequisites to install, lint and clean.

CFN_TEMPLATES := infra/stack.yaml cicd/bootstrap.yaml
# A deploy from CI adds options of `aws cloudformation deploy` (DEPLOY_OPTIONS) and stack
# parameters (DEPLOY_PARAMETERS, Name=value) to the stage's: `make ci-deploy` sets both.
DEPLOY_OPTIONS ?=
DEPLOY_PARAMETERS ?=
KEEP_BUILT ?=
CI_KEEP_BUILT = -o $(PACKAGE_ZIP){% if has('site') %} -o $(FRONTEND)/dist/index.html{% endif %}
# Zappa is pinned in uv.lock (the dev group), so it is in the project's environment.
ZAPPA := $(VENV)/bin/zappa

# Zappa packs the virtualenv it runs in (VIRTUAL_ENV) and the current
# directory. It runs in a virtualenv laid out for it here, holding only what
# Lambda needs (the app and its dependencies as wheels for Lambda, by
# dev/pack.py; Zappa's handler, by dev/zappa_package.py; all as bytecode);
# zappa_settings.json's exclude leaves out the project's own files. Zappa's
# precompiled-package download stays off: it would need PyPI, and without it
# Zappa silently packs this machine's binaries.
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
{%- if has('in_vpc') %}
# Add the stage's network: VpcId=vpc-... PrivateSubnetIds=subnet-...,subnet-... (README.md, "Deploy").
STACK_PARAMETERS_dev := Stage=dev
# Production runs a standby instance in a second Availability Zone.
STACK_PARAMETERS_prod := Stage=prod DatabaseMultiAz=true
{%- else %}
STACK_PARAMETERS_dev := Stage=dev
STACK_PARAMETERS_prod := Stage=prod
{%- endif %}

.PHONY: build stack deploy ci-deploy logs rollback delete {% if has('sql_store') %}migrate-stage {% endif %}zappa-clean

clean: zappa-clean

build: $(PACKAGE_ZIP)  ## Build STAGE's package (zappa package) if sources changed

$(PACKAGE_ZIP): zappa_settings.json pyproject.toml uv.lock Makefile deploy.mk dev/pack.py dev/zappa_package.py $(SOURCES) | $(ZAPPA)
	rm -rf $(PACKED_ENV) $(PACKAGE_DIR)
	$(PACK) $(SITE_PACKAGES)
	$(RUN) python -m dev.zappa_package handler $(SITE_PACKAGES)
	VIRTUAL_ENV=$(abspath $(PACKED_ENV)) $(ZAPPA) package $(STAGE) --output $(PACKAGE_ZIP)
	$(RUN) python -m dev.zappa_package finish $(PACKAGE_ZIP) $(PACKAGE_DIR)

$(ZAPPA): | $(VENV)/pyvenv.cfg
	uv sync --locked

# Needs the AWS CLI and credentials. Once everything is built, the stack (the
# function's role, store and packages bucket), then the function:
# dev/zappa_stage.py gives Zappa zappa_settings.json's stage plus what the
# stack's outputs say, runs `zappa deploy` the first time and `zappa update`
# after, and records the API's URL in the stack.
{%- if has('secrets_service') %}
stack:  ## Create or update STAGE's stack alone (what Zappa does not create); run `make secrets` once per stage first
	aws cloudformation deploy --region $(REGION) --stack-name $(STACK) --template-file $(STACK_TEMPLATE) \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset $(DEPLOY_OPTIONS) \
		--parameter-overrides $(STACK_PARAMETERS_$(STAGE)) $(DEPLOY_PARAMETERS) --tags project={{ cookiecutter.project_slug }} stage=$(STAGE)

deploy: build | $(ZAPPA)  ## Deploy STAGE (dev|prod): its stack, then the function
	$(MAKE) --no-print-directory stack STAGE=$(STAGE) DEPLOY_OPTIONS="$(DEPLOY_OPTIONS)" DEPLOY_PARAMETERS="$(DEPLOY_PARAMETERS)"
	$(RUN) python -m dev.zappa_stage deploy $(STAGE) --package $(PACKAGE_ZIP) --zappa $(ZAPPA)
{%- elif has('secrets_in_environment') %}
# The secrets of .env.example come from ENV_FILE or the environment, and are checked before
# anything is deployed. dev/stage_secrets.py hands the stack its parameters on the standard
# input of `aws cloudformation deploy`{% if has('sql_store') %} (the database's password among them){% endif %}, never on its command line;
# Zappa gets the function's in a settings file only you can read (dev/zappa_stage.py).
stack: | $(VENV)/pyvenv.cfg  ## Create or update STAGE's stack alone (what Zappa does not create), with the secrets of .env
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(RUN) python -m dev.stage_secrets stack $(STACK_PARAMETERS_$(STAGE)) $(DEPLOY_PARAMETERS) --env-file $(ENV_FILE) -- \
		aws cloudformation deploy --region $(REGION) --stack-name $(STACK) --template-file $(STACK_TEMPLATE) \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset $(DEPLOY_OPTIONS) \
		--parameter-overrides file:///dev/stdin --tags project={{ cookiecutter.project_slug }} stage=$(STAGE)

deploy: build | $(ZAPPA)  ## Deploy STAGE (dev|prod): its stack, then the function, with the secrets of .env
	$(MAKE) --no-print-directory stack STAGE=$(STAGE) DEPLOY_OPTIONS="$(DEPLOY_OPTIONS)" DEPLOY_PARAMETERS="$(DEPLOY_PARAMETERS)"
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(RUN) python -m dev.zappa_stage deploy $(STAGE) --package $(PACKAGE_ZIP) --zappa $(ZAPPA)
{%- endif %}
{%- if has('sql_store') %}
	$(MAKE) --no-print-directory migrate-stage STAGE=$(STAGE)
{%- endif %}
{%- if has('site') %}
	$(MAKE) --no-print-directory $(KEEP_BUILT) frontend-deploy
{%- endif %}

logs: | $(ZAPPA)  ## Tail STAGE's function logs (zappa tail)
	$(ZAPPA) tail $(STAGE) --since 1h

rollback: | $(ZAPPA)  ## Put STAGE's function back on its previous code (zappa rollback)
	$(ZAPPA) rollback $(STAGE) --num-rollback 1

# The function and its API first (zappa undeploy), then the stack.
delete: | $(ZAPPA)  ## Delete STAGE: the function, its API and its stack ({% if has('sql_store') %}the database is snapshotted; see README.md first{% elif has('key_value_store') %}its table is retained{% endif %})
	$(ZAPPA) undeploy $(STAGE) --yes
	aws cloudformation delete-stack --region $(REGION) --stack-name $(STACK)
	aws cloudformation wait stack-delete-complete --region $(REGION) --stack-name $(STACK)
{%- if has('sql_store') %}

# The migrations run in the stage's function, inside the VPC, through `zappa invoke`.
migrate-stage: | $(ZAPPA)  ## Migrate STAGE's deployed database; DOWNGRADE=-1 undoes the newest migration
	$(ZAPPA) invoke $(STAGE) $(PACKAGE).migrate.zappa_invoke $(if $(DOWNGRADE),--payload '$(DOWNGRADE_PAYLOAD)')
DOWNGRADE_PAYLOAD = {"migration": "downgrade", "revision": "$(DOWNGRADE)"}
{%- endif %}

zappa-clean:
	rm -rf $(BUILD_DIR)

include cicd/bootstrap.mk

# What the deploy workflow runs, with the role of STAGE's bootstrap stack: `make deploy` of the
# package already built, the stage's stack changed through that stack's CloudFormation role,
# with its permissions boundary. KEEP_BUILT (make's -o: never remake the package{% if has('site') %} or the app{% endif %})
# goes to each make that deploy runs, as make does not hand -o on by itself.
ci-deploy: | $(ZAPPA)  ## Deploy STAGE's built package as CI does, with its bootstrap stack's roles
	$(MAKE) --no-print-directory $(CI_KEEP_BUILT) deploy STAGE=$(STAGE) KEEP_BUILT="$(CI_KEEP_BUILT)" \
		DEPLOY_OPTIONS="--role-arn $(call ci_output,$(STAGE),DeployRoleArn)" \
		DEPLOY_PARAMETERS="PermissionsBoundaryArn=$(call ci_output,$(STAGE),PermissionsBoundaryArn)"
