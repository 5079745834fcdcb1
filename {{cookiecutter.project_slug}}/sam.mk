# The SAM CLI and the artifact `sam build` makes of TEMPLATE (set by deploy.mk):
# build, invoke and logs. Included by deploy.mk.

# SAM CLI pins its own versions of boto3, click, jsonschema...: it gets an
# environment of its own so it never dictates the app's dependencies.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
SAM ?= $(SAM_VENV)/bin/sam
BUILD_DIR := .aws-sam/build
# Where `make invoke` finds boto3 as the Lambda runtime provides it (never packed).
RUNTIME_SDK := .aws-sam/runtime-sdk
SOURCES := $(shell find src -type f -not -path '*/__pycache__/*')

.PHONY: sam-validate build build-ApiFunction {% if has('sql_store') %}build-MigrateFunction build-MigrationHook migrate-stage {% endif %}logs sam-clean

install: $(SAM_VENV)/bin/sam
lint: sam-validate
clean: sam-clean

sam-validate: | $(SAM)
	$(SAM) validate --lint --template $(TEMPLATE)

build: $(BUILD_DIR)/template.yaml  ## Build the Lambda artifact (sam build) if sources changed

$(BUILD_DIR)/template.yaml: $(TEMPLATE) pyproject.toml uv.lock Makefile sam.mk dev/pack.py $(SOURCES) | $(SAM) $(VENV)/pyvenv.cfg
	$(SAM) build --template $(TEMPLATE)

# Run by `sam build` (BuildMethod: makefile) with ARTIFACTS_DIR set.
{%- if has('sql_store') %}
# The migration function and its hook before traffic run the API's code with other
# handlers. SAM builds each function of a Makefile on its own: the code is packed once,
# into PACKED, and each function's artifact is a copy of it.
PACKED := .aws-sam/packed

$(PACKED).stamp: pyproject.toml uv.lock dev/pack.py $(SOURCES) | $(VENV)/pyvenv.cfg
	rm -rf $(PACKED)
	$(PACK) $(PACKED)
	touch $@

build-ApiFunction build-MigrateFunction build-MigrationHook: $(PACKED).stamp
	cp -a $(PACKED)/. $(ARTIFACTS_DIR)
{%- elif has('key_value_store') %}
build-ApiFunction:
	$(PACK) $(ARTIFACTS_DIR)
{%- endif %}

logs: | $(SAM)  ## Tail STAGE's function logs
	$(SAM) logs --stack-name $(STACK) --region $(REGION) --name ApiFunction --tail
{%- if has('sql_store') %}

# Through the stage's migration function (dev/migrate.py), inside its VPC.
migrate-stage: | $(VENV)/pyvenv.cfg  ## Migrate STAGE's deployed database; DOWNGRADE=-1 undoes the newest migration
	PYTHONPATH=src $(RUN) python -m dev.migrate --stage $(STAGE) $(if $(DOWNGRADE),--downgrade $(DOWNGRADE))
{%- endif %}

sam-clean:
	rm -rf .aws-sam

# With the project's Python, found as .venv's was.
$(SAM_VENV)/bin/sam: | $(VENV)/pyvenv.cfg
	uv venv --quiet --python $(PYTHON_VERSION) $(SAM_VENV)
	uv pip install --quiet --python $(SAM_VENV) aws-sam-cli==$(SAM_CLI_VERSION)
