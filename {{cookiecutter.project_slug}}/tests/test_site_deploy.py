"""Publishing the app (frontend/deploy.py) on a stage, against the local AWS emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dev import local_aws
from frontend import deploy

API_URL = "https://abc123defg.execute-api.{{ cookiecutter.aws_region }}.amazonaws.com/"
BUILT = {
    "index.html": '<script type="module" src="/assets/index-1a2b3c.js"></script>',
    "favicon.svg": "<svg/>",
    "assets/index-1a2b3c.js": "export {}",
    "assets/index-4d5e6f.css": "body{}",
}


@dataclass(frozen=True)
class Stack:
    stack_name: str
    site: deploy.Site
    s3: Any
    cloudfront: Any


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    for name, text in BUILT.items():
        path = tmp_path / "dist" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "dist"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The AWS emulator, where deploy.py's own boto3 session finds it (as it finds AWS)."""
    with local_aws.running("test"):
        for key, value in local_aws.client_environment().items():
            monkeypatch.setenv(key, value)
        yield


@pytest.fixture
def stack(aws: None) -> Stack:
    """A deployed stack with its outputs: its bucket, a distribution and the API's URL."""
    name = f"site-{uuid.uuid4().hex[:12]}"
    cloudfront = local_aws.client("cloudfront")
    # The emulator's CloudFormation makes buckets but not distributions: this one is made directly.
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": name,
            "Comment": name,
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "site-bucket", "DomainName": f"{name}.s3.amazonaws.com"}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site-bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            },
        }
    )["Distribution"]
    site = deploy.Site(
        url=f"https://{distribution['DomainName']}",
        bucket=name,
        distribution_id=distribution["Id"],
        api_url=API_URL,
    )
    template = {
        "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}},
        "Outputs": {
            "SiteUrl": {"Value": site.url},
            "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
            "SiteDistributionId": {"Value": site.distribution_id},
            "ApiUrl": {"Value": API_URL},
        },
    }
    local_aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return Stack(stack_name=name, site=site, s3=local_aws.client("s3"), cloudfront=cloudfront)


def main(command: str, stack_name: str, *options: str) -> int:
    return deploy.main([command, "--stack-name", stack_name, "--region", local_aws.REGION, *options])


def publish(stack: Stack, dist: Path) -> None:
    assert main("publish", stack.stack_name, "--dist", str(dist)) == 0


def test_reads_the_site_from_the_stack_outputs(stack: Stack) -> None:
    assert deploy.read_site(local_aws.client("cloudformation"), stack.stack_name) == stack.site


def test_uploads_with_the_cache_headers_of_the_design(stack: Stack, dist: Path) -> None:
    publish(stack, dist)
    expected = {
        "assets/index-1a2b3c.js": ("public, max-age=31536000, immutable", "text/javascript"),
        "assets/index-4d5e6f.css": ("public, max-age=31536000, immutable", "text/css"),
        "index.html": ("no-cache", "text/html"),
        "favicon.svg": ("no-cache", "image/svg+xml"),
        "config.json": ("no-cache", "application/json"),
    }
    for key, (cache_control, content_type) in expected.items():
        head = stack.s3.head_object(Bucket=stack.site.bucket, Key=key)
        assert (head["CacheControl"], head["ContentType"]) == (cache_control, content_type), key
    index = stack.s3.get_object(Bucket=stack.site.bucket, Key="index.html")["Body"].read().decode()
    assert index == BUILT["index.html"]


def test_writes_the_runtime_config_from_the_stack(stack: Stack, dist: Path) -> None:
    (dist / "config.json").write_text('{"apiBaseUrl": "https://stale.example"}', encoding="utf-8")
    publish(stack, dist)
    config = json.loads(stack.s3.get_object(Bucket=stack.site.bucket, Key="config.json")["Body"].read())
    # The stage's API, never a config.json that happened to be in the build.
    assert config == {"apiBaseUrl": API_URL.rstrip("/")}


def test_uploads_assets_first_and_index_html_last(stack: Stack, dist: Path) -> None:
    keys: list[str] = []
    s3 = local_aws.client("s3")
    s3.meta.events.register("before-call.s3.PutObject", lambda params, **_: keys.append(params["url_path"]))
    deploy.publish(stack.site, dist, s3, stack.cloudfront)
    names = [path.rsplit("/", 1)[-1] for path in keys]
    assert names[:2] == sorted(["index-1a2b3c.js", "index-4d5e6f.css"])
    assert names[2:] == ["config.json", "favicon.svg", "index.html"]


def test_invalidates_the_distribution(stack: Stack, dist: Path) -> None:
    publish(stack, dist)
    invalidations = stack.cloudfront.list_invalidations(DistributionId=stack.site.distribution_id)
    [summary] = invalidations["InvalidationList"]["Items"]
    invalidation = stack.cloudfront.get_invalidation(
        DistributionId=stack.site.distribution_id, Id=summary["Id"]
    )
    assert invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/*"]


def test_refuses_an_unbuilt_app(stack: Stack, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="build the app first"):
        main("publish", stack.stack_name, "--dist", str(tmp_path))


def test_empty_deletes_every_object(stack: Stack, dist: Path) -> None:
    publish(stack, dist)
    assert main("empty", stack.stack_name) == 0
    assert stack.s3.list_objects_v2(Bucket=stack.site.bucket)["KeyCount"] == 0


def test_empty_without_a_stack_has_nothing_to_do(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("empty", "no-such-stack") == 0
    assert "nothing to empty" in capsys.readouterr().out


def test_publish_without_a_stack_fails(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("publish", "no-such-stack") == 1
    assert "no stack named no-such-stack" in capsys.readouterr().err
