# What deploys from CI, for deploy.mk: `make bootstrap` makes the CI bootstrap stacks, and
# ci_output reads their outputs (`make ci-deploy`).

CI_TEMPLATE := cicd/bootstrap.yaml

.PHONY: bootstrap

# The CI bootstrap stack of each stage (cicd/bootstrap.yaml): GitHub's identity provider, the role
# GitHub Actions assumes and CloudFormation's role for the stage's stack. Needs AWS credentials
# that may create IAM roles; once, and again after editing cicd/bootstrap.yaml. The dev stack
# creates the provider unless OIDC_PROVIDER_ARN names the account's; the prod stack reuses it.
GITHUB_REPOSITORY ?=
OIDC_PROVIDER_ARN ?=
CI_STACK_PREFIX := {{ cookiecutter.project_slug }}-ci
# $(call ci_output,stage,key): an output of the stage's bootstrap stack.
ci_output = $$(aws cloudformation describe-stacks --region $(REGION) --stack-name $(CI_STACK_PREFIX)-$(1) \
	--query "Stacks[0].Outputs[?OutputKey=='$(2)'].OutputValue" --output text)
# $(call ci_stack,stage,provider ARN): create or update the stage's bootstrap stack.
ci_stack = aws cloudformation deploy --region $(REGION) --stack-name $(CI_STACK_PREFIX)-$(1) \
	--template-file $(CI_TEMPLATE) --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
	--parameter-overrides Stage=$(1) GitHubRepository=$(GITHUB_REPOSITORY) GitHubOidcProviderArn=$(2) \
	--tags project={{ cookiecutter.project_slug }} stage=$(1)

bootstrap:  ## Create or update the CI deploy roles of dev and prod: GITHUB_REPOSITORY=owner/name [OIDC_PROVIDER_ARN=...]
	@test -n "$(GITHUB_REPOSITORY)" || { echo "GITHUB_REPOSITORY is not set: make bootstrap GITHUB_REPOSITORY=owner/name" >&2; exit 1; }
	$(call ci_stack,dev,$(OIDC_PROVIDER_ARN))
	$(call ci_stack,prod,$(call ci_output,dev,GitHubOidcProviderArn))
	@for stage in dev prod; do echo "GitHub environment $$stage: AWS_ROLE_ARN=$(call ci_output,$$stage,GitHubActionsRoleArn)"; done
