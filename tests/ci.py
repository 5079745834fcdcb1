"""A deploy from CI, as the render tier checks it: the role GitHub Actions assumes for a stage
(the generated ``cicd/bootstrap.yaml``) and the workflows that assume it (``.github/workflows``).

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
}


def option_actions(answers: Mapping[str, str]) -> frozenset[str]:
    """What a deploy's last steps add: the migrations (rds), the app's upload and invalidation (spa)."""
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
