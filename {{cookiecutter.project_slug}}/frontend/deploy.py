"""Publish the built app (frontend/dist) on its stage's bucket and CloudFront.

``make deploy`` runs ``python -m frontend.deploy publish`` after the stack's deploy:
it reads the stack's outputs, uploads the files with the cache headers the
distribution is designed around, writes the runtime configuration
(``config.json``: this stage's API URL, so one build serves every stage) and
invalidates CloudFront. ``make delete`` runs ``empty`` first, because
CloudFormation deletes only an empty bucket.

Upload order keeps visitors whole: hashed assets first, then config.json, then
the other files, index.html last, so no index.html is served before the assets
it names. Superseded assets stay: a page loaded before the deploy may still ask
for them.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

DIST = Path(__file__).resolve().parent / "dist"
# Vite names these by their content hash: a changed file is a new name.
ASSETS_PREFIX = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything else (index.html, config.json, favicon...): the browser revalidates each time.
REVALIDATE = "no-cache"
CONFIG_KEY = "config.json"
ENTRY_KEY = "index.html"
# Site field -> the stack output holding it.
OUTPUT_KEYS = {
    "url": "SiteUrl",
    "bucket": "SiteBucketName",
    "distribution_id": "SiteDistributionId",
    "api_url": "ApiUrl",
}


@dataclass(frozen=True)
class Site:
    """What the stack's outputs say about the site."""

    url: str
    bucket: str
    distribution_id: str
    api_url: str


class StackNotFoundError(Exception):
    pass


def read_site(cloudformation: Any, stack_name: str) -> Site:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise StackNotFoundError(f"no stack named {stack_name}: deploy it first (`make deploy`)") from exc
        raise
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    missing = [key for key in OUTPUT_KEYS.values() if key not in outputs]
    if missing:
        raise SystemExit(
            f"stack {stack_name} has no output {', '.join(missing)}: is it this project's stack?"
        )
    return Site(**{field: outputs[key] for field, key in OUTPUT_KEYS.items()})


def runtime_config(site: Site) -> bytes:
    return json.dumps({"apiBaseUrl": site.api_url.rstrip("/")}, indent=2).encode() + b"\n"


def uploads(site: Site, dist: Path) -> list[tuple[str, bytes]]:
    """``(key, content)`` in upload order: assets, config.json, the other files, index.html."""
    if not (dist / ENTRY_KEY).is_file():
        raise SystemExit(f"{dist / ENTRY_KEY} is missing: build the app first (`make frontend-build`)")
    files = {
        path.relative_to(dist).as_posix(): path.read_bytes() for path in dist.rglob("*") if path.is_file()
    }
    files[CONFIG_KEY] = runtime_config(site)  # this stage's, never one that came with the build

    def rank(key: str) -> tuple[int, str]:
        if key.startswith(ASSETS_PREFIX):
            return 0, key
        return {CONFIG_KEY: 1, ENTRY_KEY: 3}.get(key, 2), key

    return sorted(files.items(), key=lambda item: rank(item[0]))


def cache_control(key: str) -> str:
    return IMMUTABLE if key.startswith(ASSETS_PREFIX) else REVALIDATE


def content_type(key: str) -> str:
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def publish(site: Site, dist: Path, s3: Any, cloudfront: Any) -> str:
    """Upload the app and its config.json; return the id of the CloudFront invalidation."""
    for key, body in uploads(site, dist):
        print(f"  s3://{site.bucket}/{key}  ({cache_control(key)})")
        s3.put_object(
            Bucket=site.bucket,
            Key=key,
            Body=body,
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
    # The edge caches only /assets/ (content-named); this also clears anything an
    # earlier cache configuration kept, so every visitor sees this deploy.
    invalidation = cloudfront.create_invalidation(
        DistributionId=site.distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
    )
    return str(invalidation["Invalidation"]["Id"])


def empty(s3: Any, bucket: str) -> int:
    """Delete every object in ``bucket``; return how many there were."""
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m frontend.deploy",
        description="Publish the built app on its stage, or empty its bucket.",
    )
    parser.add_argument("command", choices=["publish", "empty"])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--dist", type=Path, default=DIST, help="the built app (default: %(default)s)")
    args = parser.parse_args(argv)

    session = boto3.Session(region_name=args.region)
    try:
        site = read_site(session.client("cloudformation"), args.stack_name)
    except StackNotFoundError as exc:
        if args.command == "empty":
            print(f"{exc}; nothing to empty")
            return 0
        print(exc, file=sys.stderr)
        return 1
    s3 = session.client("s3")
    if args.command == "empty":
        print(f"emptied s3://{site.bucket}: {empty(s3, site.bucket)} objects deleted")
        return 0
    print(f"publishing {args.dist} to s3://{site.bucket}")
    invalidation = publish(site, args.dist, s3, session.client("cloudfront"))
    print(f"CloudFront invalidation {invalidation} started for {site.distribution_id}")
    print(f"{site.url} calls {site.api_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
