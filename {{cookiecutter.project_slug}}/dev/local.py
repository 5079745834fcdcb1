"""Run the API locally with no AWS account.

``python -m dev.local serve`` (what ``make dev`` runs) starts the local
stand-ins of what the app uses (``local_store``, ``local_secrets``), sets up
the ``local`` stage in them, adds two example questions when there are none,
and serves the app on ``http://127.0.0.1:${PORT:-5000}``.

The same two steps serve ``make invoke`` and the tests: ``services(purpose)``
runs the stand-ins for a block (``dev``: shared with other local commands;
``test``: a run's own), ``environment(stage)`` sets up a stage in them and
returns the environment the app needs for it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from . import local_secrets, local_store

STAGE = "local"
DEFAULT_PORT = 5000
EXAMPLE_QUESTIONS = (
    "How do I replace the example resource with my own?",
    "Why does the Lambda artifact ship precompiled bytecode?",
)
{%- if cookiecutter.frontend == 'spa' %}
# Where the single-page app calls the API from: Vite's dev server (`make dev`),
# under either local name. SITE_ORIGINS in the environment takes precedence.
DEV_SERVER_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"
{%- endif %}


@contextmanager
def services(purpose: str) -> Iterator[None]:
    """The local stand-ins of the store and the secrets, running for the block."""
    with local_store.services(purpose), local_secrets.services(purpose):
        yield


def environment(stage: str) -> dict[str, str]:
    """Set up ``stage`` in the running stand-ins; everything the app needs to run as it."""
    return {
        "STAGE": stage,
        "SERVICE_NAME": "{{ cookiecutter.project_slug }}",
        **local_store.configure(stage),
        **local_secrets.configure(stage),
{%- if cookiecutter.frontend == 'spa' %}
        "SITE_ORIGINS": os.environ.get("SITE_ORIGINS", DEV_SERVER_ORIGINS),
{%- endif %}
    }


def add_examples() -> None:
    from {{ cookiecutter.package_name }}.storage.factory import make_repository

    repository = make_repository()
    if not repository.list_questions(limit=1, after=None).items:
        for text in EXAMPLE_QUESTIONS:
            repository.add_question(text)


def serve(port: int) -> None:
    with services("dev"):
        os.environ.update(environment(STAGE))
        add_examples()

        from {{ cookiecutter.package_name }}.app import create_app

        print(f"Admin token for DELETE /questions/<id>: {local_secrets.ADMIN_TOKEN}")
        create_app().run(host="127.0.0.1", port=port)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    args = parser.parse_args()
    serve(args.port)


if __name__ == "__main__":
    main()
