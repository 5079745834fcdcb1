"""Zappa's Lambda handler around an app the test made, configured as the package configures it.

The settings are what ``zappa package`` writes into the package
(``zappa_settings.py``, from this project's zappa_settings.json); only the
app they name is the test's, wrapped as ``wsgi.py`` wraps the real one.
"""

from __future__ import annotations

import os
import sys
import types
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from zappa.cli import ZappaCLI  # type: ignore[import-untyped]
from zappa.handler import LambdaHandler  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.wsgi import wrap

PROJECT = Path(__file__).resolve().parent.parent
# The stage whose settings the handler gets (zappa_settings.json).
SETTINGS_STAGE = "dev"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def packaged_settings(stage: str = SETTINGS_STAGE) -> str:
    """The text of zappa_settings.py that ``zappa package <stage>`` puts at the package's root."""
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(PROJECT / "zappa_settings.json"))
    return str(cli.get_zappa_settings_string())


def make_handler(app: Flask) -> Handler:
    """Lambda's entry point (``handler.lambda_handler`` in the package) serving ``app``."""
    name = f"zappa_settings_{uuid.uuid4().hex}"
    settings = types.ModuleType(name)
    exec(packaged_settings(), settings.__dict__)  # noqa: S102 -- the settings module Zappa itself writes
    served = types.ModuleType(f"{name}_app")
    served.app = wrap(app)  # type: ignore[attr-defined]
    settings.APP_MODULE = served.__name__  # type: ignore[attr-defined]
    settings.APP_FUNCTION = "app"  # type: ignore[attr-defined]
    sys.modules[settings.__name__] = settings
    sys.modules[served.__name__] = served
    # One handler per container in Lambda, kept by the class: one per app here.
    LambdaHandler._LambdaHandler__instance = None
    # It sets STAGE to its API stage, as in Lambda; the test's stage keeps its own.
    stage = os.environ.get("STAGE")
    LambdaHandler(name)
    if stage is not None:
        os.environ["STAGE"] = stage

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = LambdaHandler.lambda_handler(event, context)
        return response

    return handler
