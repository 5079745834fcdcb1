"""``make smoke``: does a deployed stage answer? Read-only, so it is safe against prod.

    python -m dev.smoke dev                                 # where: the stage's stack says
    python -m dev.smoke --base-url http://localhost:PORT    # any running API: make dev's{% if has('site') %}
        [--site-url http://localhost:SITE_PORT]            # and its site{% endif %}

With a stage it reads the outputs of its stack, {{ cookiecutter.project_slug }}-<stage>
(``ApiUrl``{% if has('site') %}, ``SiteUrl``{% endif %}). The API must answer ``/health`` as that stage,
``/openapi.json`` with its paths, and a list request{% if has('site') %}; the site must serve its
``index.html`` and a ``config.json`` that names that API{% endif %}. Nothing is written. One
line per check; the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

STACK_PREFIX = "{{ cookiecutter.project_slug }}"
REGION = "{{ cookiecutter.aws_region }}"
API_OUTPUT = "ApiUrl"
{%- if has('site') %}
SITE_OUTPUT = "SiteUrl"
{%- endif %}
TIMEOUT_SECONDS = 15
# A stage just deployed may answer 5xx for a moment (a new version taking its first
# requests): such an answer is retried a few times before the check counts as failed.
ATTEMPTS = 3
RETRY_SECONDS = 5


class SmokeError(Exception):
    """One check's failure, said in one line."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            kind = self.content_type or "no content type"
            raise SmokeError(f"not JSON ({kind}): {self.body[:80]!r}") from exc


def get(url: str) -> Answer:
    """A GET of an http(s) URL; HTTP errors are answers too."""
    if not url.startswith(("https://", "http://")):
        raise SmokeError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json, text/html"})  # noqa: S310
    try:
        # The scheme is checked above.
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return Answer(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read())
    except (urllib.error.URLError, OSError) as exc:
        raise SmokeError(f"no answer: {getattr(exc, 'reason', exc)}") from exc


def answered(url: str, expected_status: int = 200) -> Answer:
    """``url``'s answer, which must have ``expected_status``; a server error is retried a few times."""
    for attempt in range(1, ATTEMPTS + 1):
        answer = get(url)
        if answer.status == expected_status:
            return answer
        if answer.status < 500 or attempt == ATTEMPTS:
            break
        time.sleep(RETRY_SECONDS)
    raise SmokeError(f"HTTP {answer.status}, not {expected_status}: {answer.body[:120]!r}")


def check_health(api: str, stage: str | None) -> str:
    found = answered(f"{api}/health").json()
    if not isinstance(found, dict) or found.get("status") != "ok":
        raise SmokeError(f"status is not ok: {found!r}")
    if stage is not None and found.get("stage") != stage:
        raise SmokeError(f"the API says it is stage {found.get('stage')!r}, not {stage!r}")
    return f"{found.get('service')}, stage {found.get('stage')}"


def check_openapi(api: str) -> str:
    spec = answered(f"{api}/openapi.json").json()
    paths = spec.get("paths", {}) if isinstance(spec, dict) else {}
    if "/questions" not in paths:
        raise SmokeError(f"no /questions among its paths: {sorted(paths)}")
    return f"OpenAPI {spec.get('openapi')}, {len(paths)} paths"


def check_list(api: str) -> str:
    page = answered(f"{api}/questions?limit=1").json()
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise SmokeError(f"no list of items: {page!r}")
    return f"{len(page['items'])} item(s) on a page of 1"
{%- if has('site') %}


def check_index(site: str) -> str:
    page = answered(f"{site}/")
    if "text/html" not in page.content_type or b'<script type="module"' not in page.body:
        raise SmokeError(f"not the app's index.html ({page.content_type}): {page.body[:120]!r}")
    return f"{len(page.body)} bytes of HTML"


def check_config(site: str, api: str) -> str:
    config = answered(f"{site}/config.json").json()
    named = config.get("apiBaseUrl") if isinstance(config, dict) else None
    if not isinstance(named, str) or named.rstrip("/") != api:
        raise SmokeError(f"apiBaseUrl is {named!r}, not {api}")
    return f"apiBaseUrl {named}"
{%- endif %}


def stack_outputs(stage: str) -> dict[str, str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    stack = f"{STACK_PREFIX}-{stage}"
    try:
        described = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=stack)
    except (BotoCoreError, ClientError) as exc:
        raise SystemExit(f"cannot read the stack {stack}: {exc}") from exc
    outputs = described["Stacks"][0].get("Outputs", [])
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


def run_checks(checks: Sequence[tuple[str, Callable[[], str]]]) -> int:
    """Run every check, print one line each; the number that failed."""
    failed = 0
    for name, check in checks:
        try:
            print(f"ok    {name}: {check()}")
        except SmokeError as exc:
            failed += 1
            print(f"FAIL  {name}: {exc}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stage", nargs="?", help="the deployed stage whose stack outputs say where it is")
    parser.add_argument("--base-url", help="the API's base URL instead of the stack's (make dev's, for one)")
{%- if has('site') %}
    parser.add_argument("--site-url", help="the site's URL instead of the stack's")
{%- endif %}
    args = parser.parse_args(argv)
    if (args.stage is None) == (args.base_url is None):
        parser.error("give either a stage or --base-url")
    outputs = stack_outputs(args.stage) if args.stage else {}
{%- if has('site') %}
    wanted = [] if args.base_url else [API_OUTPUT, SITE_OUTPUT]
{%- else %}
    wanted = [] if args.base_url else [API_OUTPUT]
{%- endif %}
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        stack = f"{STACK_PREFIX}-{args.stage}"
        print(f"stack {stack} has no {', '.join(missing)} output: deploy it first", file=sys.stderr)
        return 1
    api = (args.base_url or outputs[API_OUTPUT]).rstrip("/")
    checks: list[tuple[str, Callable[[], str]]] = [
        (f"GET {api}/health", lambda: check_health(api, args.stage)),
        (f"GET {api}/openapi.json", lambda: check_openapi(api)),
        (f"GET {api}/questions", lambda: check_list(api)),
    ]
{%- if has('site') %}
    site = (args.site_url or outputs.get(SITE_OUTPUT) or "").rstrip("/")
    if site:
        checks += [
            (f"GET {site}/", lambda: check_index(site)),
            (f"GET {site}/config.json", lambda: check_config(site, api)),
        ]
{%- endif %}
    failed = run_checks(checks)
    print(f"{len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
