# Built and deployed with the SAM CLI: template.yaml, settings per stage in samconfig.toml.
#
# What the Makefile expects of deploy.mk, and this file provides:
#   targets    build (the artifact, laid out by the Makefile's PACK), deploy, delete, logs{% if has('sql_store') %},
#              migrate-stage{% endif %}
#   variables  CFN_TEMPLATES (what `make lint` checks), RUNTIME_SDK (where `make invoke` finds boto3)
# It may add prerequisites to install, lint and clean (sam.mk does).

TEMPLATE := template.yaml
CFN_TEMPLATES := template.yaml cicd/bootstrap.yaml
# A deploy from CI adds options of sam deploy (DEPLOY_OPTIONS) and stack parameters
# (DEPLOY_PARAMETERS, Name=value) to samconfig.toml's: `make ci-deploy` sets both.
DEPLOY_OPTIONS ?=
DEPLOY_PARAMETERS ?=
KEEP_BUILT ?=
CI_KEEP_BUILT = -o $(BUILD_DIR)/template.yaml{% if has('site') %} -o $(FRONTEND)/dist/index.html{% endif %}

include sam.mk
include cicd/bootstrap.mk

.PHONY: stack deploy delete ci-deploy
{%- if has('secrets_service') %}

stack: build | $(VENV)/pyvenv.cfg  ## Create or update STAGE's stack alone (sam deploy); run `make secrets` once per stage first
	$(SAM) deploy --config-env $(STAGE) $(DEPLOY_OPTIONS)$(if $(DEPLOY_PARAMETERS), \
		--parameter-overrides "$$($(RUN) python -m dev.samconfig $(STAGE))" $(DEPLOY_PARAMETERS))
{%- elif has('secrets_in_environment') %}

# The secrets of .env.example, from ENV_FILE or the environment, become NoEcho stack
# parameters: dev/stage_secrets.py hands them to sam deploy in a file only you can read,
# never on its command line, and adds the stage's parameter_overrides from samconfig.toml.
stack: build | $(VENV)/pyvenv.cfg  ## Create or update STAGE's stack alone (sam deploy), with the secrets of .env
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(RUN) python -m dev.stage_secrets deploy $(STAGE) --sam $(SAM) --env-file $(ENV_FILE) \
		$(DEPLOY_PARAMETERS:%=--parameter %)$(if $(DEPLOY_OPTIONS), --sam-options="$(DEPLOY_OPTIONS)")
{%- endif %}

# The stack changes only once everything is built. CodeDeploy then moves the API's
# traffic to the new version as the stage's TrafficShifting says, and back if an
# alarm goes off (README.md, "Watching and rolling back").
{%- if has('sql_store') %}
# A deploy's migrations run before any traffic moves (the hook of the API function's
# DeploymentPreference); `make migrate-stage` after it migrates a stack just created, which
# no hook runs for, and finds nothing to do otherwise.
{%- endif %}
deploy: build  ## Deploy STAGE (dev|prod): its stack{% if has('sql_store') %}, then its migrations{% endif %}{% if has('site') %}, then the app{% endif %}
	$(MAKE) --no-print-directory $(KEEP_BUILT) stack STAGE=$(STAGE)
{%- if has('sql_store') %}
	$(MAKE) --no-print-directory migrate-stage STAGE=$(STAGE)
{%- endif %}
{%- if has('site') %}
	$(MAKE) --no-print-directory $(KEEP_BUILT) frontend-deploy
{%- endif %}

delete: | $(SAM)  ## Delete STAGE's stack ({% if has('sql_store') %}the database is snapshotted; see README.md first{% elif has('key_value_store') %}its table is retained{% endif %})
	$(SAM) delete --config-env $(STAGE)

# What the deploy workflow runs, with the role of STAGE's bootstrap stack: `make deploy` of the
# artifact already built, through that stack's bucket, CloudFormation role and permissions
# boundary. KEEP_BUILT (make's -o: never remake the artifact{% if has('site') %} or the app{% endif %}) goes to each make that
# deploy runs, as make does not hand -o on by itself.
ci-deploy: | $(SAM) $(VENV)/pyvenv.cfg  ## Deploy STAGE's built artifact as CI does, with its bootstrap stack's roles
	$(MAKE) --no-print-directory $(CI_KEEP_BUILT) deploy STAGE=$(STAGE) KEEP_BUILT="$(CI_KEEP_BUILT)" \
		DEPLOY_OPTIONS="--no-resolve-s3 --s3-bucket $(call ci_output,$(STAGE),ArtifactBucketName) --role-arn $(call ci_output,$(STAGE),DeployRoleArn)" \
		DEPLOY_PARAMETERS="PermissionsBoundaryArn=$(call ci_output,$(STAGE),PermissionsBoundaryArn)"
