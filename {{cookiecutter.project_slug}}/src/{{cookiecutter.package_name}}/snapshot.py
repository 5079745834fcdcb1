"""Lambda SnapStart: what the snapshot holds, and what each restored environment makes anew.

With the stack's ``SnapStart`` parameter on, Lambda initialises each published
version once, snapshots its memory, and starts environments from copies of
that snapshot instead of running the initialisation again. ``prime`` runs
before the snapshot: it does what a first request would otherwise do (import
the store's and the secrets' libraries, make the store's client, build the
OpenAPI document, serve a request that needs no store), so that time is
spent once per version instead of at every cold start. ``refresh`` runs after
each restore: environments restored from one snapshot must not share what the
snapshot froze, so it closes the store's connections (each environment opens
its own), reseeds the random generator (or each would draw the same numbers)
and drops cached secrets (their age counts from the snapshot, maybe long ago).

The hooks library is provided by Lambda's Python runtimes, not installed with
the project: elsewhere nothing is snapshotted and ``register`` does nothing.
"""

from __future__ import annotations

import random

from flask import Flask

from . import secrets


def prime(app: Flask) -> None:
    """Before the snapshot: everything a first request needs that reads no data."""
    app.extensions["repository"]()
    secrets.load_client()
    with app.test_client() as client:
        client.get("/openapi.json")  # builds the document, and the request path with it


def refresh(app: Flask) -> None:
    """After a restore: nothing frozen in the snapshot is shared with another environment."""
    app.extensions["repository"]().disconnect()
    random.seed()  # from the operating system's randomness, which differs per environment
    secrets.forget_cached()


def register(app: Flask) -> bool:
    """Register ``prime`` and ``refresh`` as SnapStart's hooks; whether the runtime has them."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:  # not in Lambda's runtime: nothing is snapshotted
        return False
    register_before_snapshot(prime, app)
    register_after_restore(refresh, app)
    return True
