"""A deploy from CI, as the render tier checks it: the role GitHub Actions assumes for a stage
(the generated ``cicd/bootstrap.yaml``, for ``sam`` and ``zappa``) and the workflows that assume
it (``.github/workflows``).

``GITHUB_DEPLOY_ACTIONS`` lists, per backend, every action its deploy calls with that role, and
``option_actions`` what the answers add (what follows a deploy, and the smoke test); the role
must allow exactly these. ``requests`` are calls a deploy of one stage makes, and calls it never
needs (another stage, another stack or bucket, another service), each with whether the role's
policy, evaluated with ``tests.iam.allowed``, must allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ACCOUNT = "123456789012"
REPOSITORY = "octo-org/quiz-board"
STAGES = ("dev", "prod")

GITHUB_DEPLOY_ACTIONS: dict[str, frozenset[str]] = {
    # sam deploy (samcli/lib/deploy/deployer.py: the change set, followed; the upload, which asks
    # first whether the object is there), its CloudFormation role passed, the bootstrap stack read.
    "sam": frozenset(
        {
            "cloudformation:GetTemplateSummary",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DescribeStacks",
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "iam:PassRole",
        }
    ),
    # make deploy: `aws cloudformation deploy` of the stage's stack (a change set, waited for), its
    # CloudFormation role passed; then dev/zappa_stage.py and Zappa 0.63 (zappa/core.py, cli.py):
    # the function created (create_lambda_function: create_function, tag_resource) or updated
    # (update_lambda_function: update_function_code, get_alias, delete_function_concurrency;
    # update_lambda_configuration: get_function_configuration, update_function_configuration,
    # publish_version, tag_resource), waited for (get_function, get_function_configuration), its
    # versions listed, its role passed; the schedule (schedule_events / unschedule_events:
    # put_rule, put_targets, describe_rule, list_rule_names_by_target, list_targets_by_rule,
    # remove_targets, delete_rule; add_permission, get_policy, remove_permission); its API's stack
    # (update_stack: the template uploaded after head_bucket, then describe_stacks, create_stack
    # or update_stack, list_stack_resources; CloudFormation reads the template and makes the HTTP
    # API and its invoke permission as the caller; get_api_id: describe_stack_resource); the
    # API's URL recorded in the stage's stack (update_stack); the bootstrap stack read.
    "zappa": frozenset(
        {
            "cloudformation:DescribeStacks",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:UpdateStack",
            "cloudformation:CreateStack",
            "cloudformation:ListStackResources",
            "cloudformation:DescribeStackResource",
            "iam:PassRole",
            "s3:ListBucket",
            "s3:PutObject",
            "s3:GetObject",
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PublishVersion",
            "lambda:ListVersionsByFunction",
            "lambda:GetAlias",
            "lambda:TagResource",
            "lambda:GetPolicy",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "events:PutRule",
            "events:DescribeRule",
            "events:DeleteRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:ListTargetsByRule",
            "events:ListRuleNamesByTarget",
            "apigateway:GET",
            "apigateway:POST",
            "apigateway:PUT",
            "apigateway:PATCH",
            "apigateway:DELETE",
        }
    ),
}


def option_actions(answers: Mapping[str, str]) -> frozenset[str]:
    """What a deploy's last steps add: the migrations (rds: the migration function, or with zappa
    `zappa invoke` of the function), the app's upload and invalidation (spa)."""
    found = set()
    if answers["storage"] == "rds":
        found.add("lambda:InvokeFunction")
    if answers["frontend"] == "spa":
        found |= {"s3:PutObject", "cloudfront:CreateInvalidation"}
    return frozenset(found)


def names(slug: str, region: str, stage: str) -> dict[str, str]:
    """What the bootstrap stack's intrinsics resolve to, for one stage."""
    prefix = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack"
    boundary = f"{slug}-{stage}-permissions-boundary"
    return {
        "AWS::Partition": "aws",
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"{prefix}/{slug}-ci-{stage}/0f1e2d3c",
        "Stage": stage,
        "GitHubRepository": REPOSITORY,
        "ArtifactBucket": f"{slug}-ci-{stage}-artifactbucket-a1b2",
        "ArtifactBucket.Arn": f"arn:aws:s3:::{slug}-ci-{stage}-artifactbucket-a1b2",
        "DeployRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/{slug}-ci-{stage}-DeployRole-Q1W2",
        "ApplicationPermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/{boundary}",
    }


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    allowed: bool
    context: Mapping[str, str] | None = None

    def describe(self) -> str:
        return f"{self.action} on {self.resource}" + (f" with {dict(self.context)}" if self.context else "")


def requests(answers: Mapping[str, str], slug: str, region: str, stage: str) -> list[Request]:
    if answers["deployment"] == "zappa":
        found = _zappa_requests(slug, region, stage, answers["storage"])
    else:
        found = _sam_requests(answers, slug, region, stage)
    return found + _option_requests(answers, slug, region, stage)


def _sam_requests(answers: Mapping[str, str], slug: str, region: str, stage: str) -> list[Request]:
    other = next(s for s in STAGES if s != stage)
    at = names(slug, region, stage)
    stack = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack"
    lambda_function = f"arn:aws:lambda:{region}:{ACCOUNT}:function"
    pass_to = {"iam:PassedToService": "cloudformation.amazonaws.com"}
    found = [
        Request("cloudformation:CreateChangeSet", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("cloudformation:ExecuteChangeSet", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("cloudformation:DescribeStacks", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("cloudformation:DescribeStacks", at["AWS::StackId"], True),
        Request(
            "cloudformation:CreateChangeSet",
            f"arn:aws:cloudformation:{region}:aws:transform/Serverless-2016-10-31",
            True,
        ),
        Request("s3:PutObject", f"{at['ArtifactBucket.Arn']}/{slug}-{stage}/0c1d2e.zip", True),
        Request("iam:PassRole", at["DeployRole.Arn"], True, pass_to),
        # Never needed: another stage's or another application's stack, deleting the stack.
        Request("cloudformation:CreateChangeSet", f"{stack}/{slug}-{other}/9a8b", False),
        Request("cloudformation:ExecuteChangeSet", f"{stack}/another-app-{stage}/9a8b", False),
        Request("cloudformation:DeleteStack", f"{stack}/{slug}-{stage}/9a8b", False),
        Request("cloudformation:DescribeStacks", f"{stack}/{slug}-ci-{other}/0f1e2d3c", False),
        # CloudFormation's role to another service, or another role to CloudFormation.
        Request("iam:PassRole", at["DeployRole.Arn"], False, {"iam:PassedToService": "lambda.amazonaws.com"}),
        Request(
            "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{slug}-{stage}-ApiFunctionRole-Z9", False, pass_to
        ),
        # Any other bucket; roles and functions changed directly rather than by the stack.
        Request("s3:PutObject", f"arn:aws:s3:::another-bucket/{slug}-{stage}/0c1d2e.zip", False),
        Request("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{slug}-{stage}-anything", False),
        Request("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{slug}-ci-{stage}-github", False),
        Request("lambda:UpdateFunctionCode", f"{lambda_function}:{slug}-{stage}-ApiFunction-AbC", False),
    ]
    if answers["storage"] == "rds":
        found += [
            Request("lambda:InvokeFunction", f"{lambda_function}:{slug}-{stage}-MigrateFunction-AbC", True),
            Request("lambda:InvokeFunction", f"{lambda_function}:{slug}-{stage}-ApiFunction-AbC", False),
            Request("lambda:InvokeFunction", f"{lambda_function}:{slug}-{other}-MigrateFunction-AbC", False),
        ]
    return found


def _zappa_requests(slug: str, region: str, stage: str, storage: str) -> list[Request]:
    other = next(s for s in STAGES if s != stage)
    at = names(slug, region, stage)
    stack = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack"
    function = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{slug}-api-{stage}"
    bucket = f"arn:aws:s3:::{slug}-{stage}-deploymentbucket-q1w2"
    rule = f"arn:aws:events:{region}:{ACCOUNT}:rule"
    role = f"arn:aws:iam::{ACCOUNT}:role"
    to_cloudformation = {"iam:PassedToService": "cloudformation.amazonaws.com"}
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    tagged = {"aws:ResourceTag/project": slug, "aws:ResourceTag/stage": stage}
    found = [
        # The stage's stack, through CloudFormation's role; the API's URL recorded in it.
        Request("cloudformation:CreateChangeSet", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("cloudformation:ExecuteChangeSet", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("cloudformation:UpdateStack", f"{stack}/{slug}-{stage}/9a8b", True),
        Request("iam:PassRole", at["DeployRole.Arn"], True, to_cloudformation),
        Request("cloudformation:DescribeStacks", at["AWS::StackId"], True),
        # Zappa's stack and its template, the function, its role, its schedule, its API.
        Request("cloudformation:CreateStack", f"{stack}/{slug}-api-{stage}/7c6d", True),
        Request("cloudformation:DescribeStackResource", f"{stack}/{slug}-api-{stage}/7c6d", True),
        Request("s3:ListBucket", bucket, True),
        Request("s3:PutObject", f"{bucket}/{slug}-api-{stage}-template-1765100000.json", True),
        Request("s3:GetObject", f"{bucket}/{slug}-api-{stage}-template-1765100000.json", True),
        Request("lambda:CreateFunction", function, True),
        Request("lambda:UpdateFunctionCode", function, True),
        Request("lambda:PublishVersion", function, True),
        Request("lambda:GetAlias", f"{function}:current", True),
        Request("lambda:AddPermission", function, True),
        Request("iam:PassRole", f"{role}/{slug}-{stage}-FunctionRole-E5R6", True, to_lambda),
        Request("events:PutRule", f"{rule}/{slug}-api-{stage}-handler.keep_warm_callback", True),
        Request("events:ListRuleNamesByTarget", f"{rule}/*", True),
        Request(
            "apigateway:PATCH", f"arn:aws:apigateway:{region}::/apis/a1b2c3/stages/{stage}", True, tagged
        ),
        # Never needed: another stage's or another application's function, stack, bucket or rule.
        Request(
            "lambda:UpdateFunctionCode",
            f"arn:aws:lambda:{region}:{ACCOUNT}:function:{slug}-api-{other}",
            False,
        ),
        Request(
            "lambda:UpdateFunctionCode", f"arn:aws:lambda:{region}:{ACCOUNT}:function:another-app", False
        ),
        Request("lambda:DeleteFunction", function, False),
        Request("cloudformation:UpdateStack", f"{stack}/{slug}-api-{other}/7c6d", False),
        Request("cloudformation:CreateStack", f"{stack}/another-app-{stage}/7c6d", False),
        Request("cloudformation:CreateChangeSet", f"{stack}/{slug}-{other}/9a8b", False),
        Request("cloudformation:DeleteStack", f"{stack}/{slug}-{stage}/9a8b", False),
        Request("cloudformation:DescribeStacks", f"{stack}/{slug}-ci-{other}/0f1e2d3c", False),
        Request("s3:PutObject", f"arn:aws:s3:::{slug}-{other}-deploymentbucket-q1w2/package.zip", False),
        Request("s3:DeleteObject", f"{bucket}/{slug}-api-{stage}-template-1765100000.json", False),
        Request("events:PutRule", f"{rule}/another-app-keep-warm", False),
        Request("events:DeleteRule", f"{rule}/another-app-keep-warm", False),
        Request(
            "apigateway:PATCH",
            f"arn:aws:apigateway:{region}::/apis/a1b2c3/stages/{stage}",
            False,
            {"aws:ResourceTag/project": slug, "aws:ResourceTag/stage": other},
        ),
        # Roles: the function's to Lambda only, no other role, and no IAM change at all.
        Request("iam:PassRole", f"{role}/{slug}-{stage}-FunctionRole-E5R6", False, to_cloudformation),
        Request("iam:PassRole", f"{role}/{slug}-{other}-FunctionRole-E5R6", False, to_lambda),
        Request("iam:PassRole", f"{role}/{slug}-ci-{stage}-github", False, to_lambda),
        Request("iam:PassRole", at["DeployRole.Arn"], False, to_lambda),
        Request("iam:CreateRole", f"{role}/{slug}-{stage}-anything", False),
        Request("iam:PutRolePolicy", f"{role}/{slug}-{stage}-FunctionRole-E5R6", False),
        Request("iam:AttachRolePolicy", f"{role}/{slug}-ci-{stage}-github", False),
    ]
    if storage == "rds":
        found += [
            Request("lambda:InvokeFunction", function, True),
            Request(
                "lambda:InvokeFunction",
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:{slug}-api-{other}",
                False,
            ),
        ]
    return found


def _option_requests(answers: Mapping[str, str], slug: str, region: str, stage: str) -> list[Request]:
    other = next(s for s in STAGES if s != stage)
    found: list[Request] = []
    if answers["frontend"] == "spa":
        distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1A2B3C4"

        def tagged(tag_stage: str) -> dict[str, str]:
            return {"aws:ResourceTag/project": slug, "aws:ResourceTag/stage": tag_stage}

        found += [
            Request("s3:PutObject", f"arn:aws:s3:::{slug}-{stage}-sitebucket-x1y2/index.html", True),
            Request("s3:PutObject", f"arn:aws:s3:::{slug}-{other}-sitebucket-x1y2/index.html", False),
            Request("cloudfront:CreateInvalidation", distribution, True, tagged(stage)),
            Request("cloudfront:CreateInvalidation", distribution, False, tagged(other)),
        ]
    return found
