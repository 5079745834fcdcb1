# Built by CodeBuild (buildspec.yml) and deployed by CodePipeline on every push
# to the stage's branch: pipeline/pipeline.yml is that toolchain, as a stack of
# its own. The targets here are the pipeline's steps, so a failed build is
# reproduced with the same command on a laptop.
#
# What the Makefile expects of deploy.mk, and this file provides (with sam.mk):
#   targets    build (the artifact, laid out by the Makefile's PACK), deploy, delete, logs{% if has('sql_store') %},
#              migrate-stage{% endif %}
#   variables  CFN_TEMPLATES (what `make lint` checks), RUNTIME_SDK (where `make invoke` finds boto3)
# It may add prerequisites to install, lint and clean (sam.mk does).

TEMPLATE := template.yml
CFN_TEMPLATES := template.yml pipeline/pipeline.yml
# The toolchain of STAGE: its connection, artifact bucket, builds and pipeline.
PIPELINE_STACK := $(STACK)-pipeline
# Set for `make pipeline`: the GitHub repository (owner/name) and the branch that deploys STAGE.
REPOSITORY ?=
BRANCH ?= main
# Where `make package` uploads the artifact (the pipeline's artifact bucket in CodeBuild).
ARTIFACT_BUCKET ?=

include sam.mk

.PHONY: package stage-configuration pipeline deploy delete pipeline-delete{% if has('secrets_in_environment') %} secrets{% endif %}{% if has('post_deploy_steps') %} post-deploy{% endif %}

# The buildspec's post_build: the built template with its code in S3, and STAGE's parameters.
package: build stage-configuration | $(SAM)  ## Upload the build to ARTIFACT_BUCKET; write template-export.yml
	@test -n "$(ARTIFACT_BUCKET)" || { echo "ARTIFACT_BUCKET is not set: the pipeline's artifact bucket" >&2; exit 1; }
	$(SAM) package --template-file $(BUILD_DIR)/template.yaml --s3-bucket $(ARTIFACT_BUCKET) \
		--s3-prefix $(STACK) --region $(REGION) --output-template-file template-export.yml

# template-configuration.json, which the pipeline's deploy action reads: STAGE's
# committed parameters and tags{% if has('secrets_in_environment') %}, plus the secrets CodeBuild reads from Secrets Manager{% endif %}.
stage-configuration: | $(VENV)/pyvenv.cfg  ## Write STAGE's template-configuration.json
	$(RUN) python -m dev.template_configuration $(STAGE)

# Needs AWS credentials that may create IAM roles. Once per stage; again after editing pipeline.yml.
pipeline: | $(SAM)  ## Create or update STAGE's pipeline: REPOSITORY=owner/name [BRANCH=main]
	@test -n "$(REPOSITORY)" || { echo "REPOSITORY is not set: make pipeline REPOSITORY=owner/name" >&2; exit 1; }
	$(SAM) deploy --template-file pipeline/pipeline.yml --stack-name $(PIPELINE_STACK) --region $(REGION) \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) Repository=$(REPOSITORY) Branch=$(BRANCH) \
		--tags project={{ cookiecutter.project_slug }} stage=$(STAGE)

deploy:  ## Release the branch's latest commit to STAGE now (a push does it too)
	aws codepipeline start-pipeline-execution --region $(REGION) --name $(PIPELINE_STACK)
{%- if has('post_deploy_steps') %}

# The pipeline's post-deploy action, once the stack is updated.{% if has('sql_store') %} A deploy's migrations
# have run before its traffic moved (CodeDeploy's hook); this migrates a stack just
# created, which no hook runs for, and finds nothing to do otherwise.{% endif %}
post-deploy:  ## After a deploy of STAGE: {% if has('sql_store') %}migrate its database{% endif %}{% if has('sql_store') and has('site') %}, {% endif %}{% if has('site') %}publish the app{% endif %}
{%- if has('sql_store') %}
	$(MAKE) --no-print-directory migrate-stage STAGE=$(STAGE)
{%- endif %}
{%- if has('site') %}
	$(MAKE) --no-print-directory frontend-deploy STAGE=$(STAGE)
{%- endif %}
{%- endif %}
{%- if has('secrets_in_environment') %}

# Needs AWS credentials. The pipeline's build reads the stage's secrets from this
# Secrets Manager secret; they never enter the repository. dev/stage_secrets.py sends
# them in the request's body, never on a command line.
secrets: | $(VENV)/pyvenv.cfg  ## Store STAGE's secrets (.env or the environment) in Secrets Manager for its pipeline
	@if [ -f $(ENV_FILE) ]; then set -a; . $(abspath $(ENV_FILE)); set +a; fi; \
	$(RUN) python -m dev.stage_secrets store $(STAGE) --env-file $(ENV_FILE)
{%- endif %}

delete: | $(SAM)  ## Delete STAGE's application stack ({% if has('sql_store') %}the database is snapshotted; see README.md first{% elif has('key_value_store') %}its table is retained{% endif %})
	$(SAM) delete --stack-name $(STACK) --region $(REGION) --no-prompts

pipeline-delete: | $(SAM)  ## Delete STAGE's pipeline stack (empty its artifact bucket first)
	$(SAM) delete --stack-name $(PIPELINE_STACK) --region $(REGION) --no-prompts
