"""Cross-origin requests from the single-page app.

CloudFront serves the app from its own origin and the app calls the API on
another (the API Gateway URL), so the browser asks the API first whether that
origin may (CORS). The API allows exactly the origins in ``SITE_ORIGINS``:
the stage's CloudFront domain when deployed (set by the stack), the Vite dev
server locally (set by ``make dev``). Other origins get no CORS headers,
and the browser keeps the answers from their pages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask
from flask_cors import CORS

# What the app sends: JSON reads and writes. Browsers reuse a preflight answer this long.
METHODS = ["GET", "POST"]
HEADERS = ["Content-Type"]
PREFLIGHT_MAX_AGE_SECONDS = 600


def site_origins(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The origins in ``SITE_ORIGINS`` (comma-separated), each ``scheme://host[:port]``."""
    origins = [origin.strip() for origin in environ.get("SITE_ORIGINS", "").split(",") if origin.strip()]
    for origin in origins:
        parts = urlsplit(origin)
        if (
            "*" in origin
            or parts.scheme not in {"http", "https"}
            or not parts.netloc
            or parts[2:] != ("", "", "")
        ):
            raise ValueError(
                f"SITE_ORIGINS: {origin!r} is not an origin (scheme://host[:port]); "
                "a wildcard would let any site call the API"
            )
    return origins


def allow_site_origins(app: Flask, environ: Mapping[str, str] = os.environ) -> None:
    """Answer CORS requests from the site's origins only; without any, add no CORS headers."""
    CORS(
        app,
        origins=site_origins(environ),
        methods=METHODS,
        allow_headers=HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
