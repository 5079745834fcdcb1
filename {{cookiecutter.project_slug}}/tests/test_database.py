"""The engine: one per container, a pool sized by its settings, TLS when the stage asks for it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool, QueuePool

from {{ cookiecutter.package_name }}.storage.database import (
    RECYCLE_SECONDS,
    EngineSettings,
    make_engine,
    system_ca_file,
)
from {{ cookiecutter.package_name }}.storage.factory import container_engine


def test_settings_from_the_environment() -> None:
    assert EngineSettings.from_env({}) == EngineSettings(pool_size=1, tls=None, ca_file=None)
    environ = {"DATABASE_POOL_SIZE": "0", "DATABASE_TLS": "verify-full", "DATABASE_CA_FILE": "/ca.pem"}
    expected = EngineSettings(pool_size=0, tls="verify-full", ca_file="/ca.pem")
    assert EngineSettings.from_env(environ) == expected
    with pytest.raises(ValueError, match="DATABASE_TLS"):
        EngineSettings.from_env({"DATABASE_TLS": "prefer"})


def test_one_engine_per_container(stage: str) -> None:
    assert container_engine() is container_engine()


def test_lambda_pool_keeps_one_checked_connection(stage: str) -> None:
    engine = make_engine(EngineSettings(pool_size=1))
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow, pool._recycle) == (1, 0, RECYCLE_SECONDS)
        assert pool._pre_ping
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_behind_rds_proxy_no_connection_is_kept(stage: str) -> None:
    engine = make_engine(EngineSettings(pool_size=0))
    try:
        assert isinstance(engine.pool, NullPool)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_the_system_trust_store_is_found() -> None:
    with open(system_ca_file(), encoding="ascii", errors="replace") as bundle:
        assert "BEGIN CERTIFICATE" in bundle.read()
