"""Settings shared by every part of the service, read from the environment.

Store- and secrets-specific settings are read by the modules that use them
(``storage/factory.py``, ``secrets.py``), so each module only sees its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    service_name: str = "{{ cookiecutter.project_slug }}"
    stage: str = "local"
    # Largest accepted request body; API Gateway itself caps payloads at 10 MB.
    max_body_bytes: int = 64 * 1024
    default_page_size: int = 20
    max_page_size: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            service_name=environ.get("SERVICE_NAME", cls.service_name),
            stage=environ.get("STAGE", cls.stage),
            max_body_bytes=int(environ.get("MAX_BODY_BYTES", cls.max_body_bytes)),
        )
