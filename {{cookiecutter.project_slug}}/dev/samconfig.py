"""A stage's stack parameters as samconfig.toml sets them, for a deploy that adds its own.

    python -m dev.samconfig dev     # prints the stage's parameter_overrides: Stage=dev ...

``sam deploy --parameter-overrides`` replaces samconfig.toml's ``parameter_overrides``
rather than adding to them, so a deploy that adds parameters (the secrets of
``.env``{% if has('secrets_service') %} in a project that keeps them there{% endif %}, the permissions boundary of a deploy from
CI) gives these first.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

SAMCONFIG = Path(__file__).resolve().parent.parent / "samconfig.toml"


class SamconfigError(Exception):
    """samconfig.toml has no settings for the stage."""


def stage_overrides(stage: str, samconfig: Path = SAMCONFIG) -> list[str]:
    """The stage's parameter_overrides in samconfig.toml, which overrides given to sam would replace."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    settings = config.get(stage, {}).get("deploy", {}).get("parameters")
    if settings is None:
        raise SamconfigError(f"{samconfig.name} has no [{stage}.deploy.parameters]: each stage has its own")
    overrides = settings.get("parameter_overrides", [])
    # A string is parsed by sam as it parses samconfig.toml's: passed as it is.
    return [overrides] if isinstance(overrides, str) else [str(override) for override in overrides]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dev.samconfig STAGE", file=sys.stderr)
        return 2
    try:
        print(" ".join(stage_overrides(args[0])))
    except SamconfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
