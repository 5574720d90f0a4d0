"""Helpers for the service tests: a database per test on each backend, users, waiting for jobs.

PostgreSQL tests run when PGX_TEST_POSTGRES_URL names a server where the user may create databases
(.ci/run starts one from the Debian packages on loopback); each test gets its own fresh database.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("PGX_TEST_POSTGRES_URL")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="no PostgreSQL server: set PGX_TEST_POSTGRES_URL (CI starts one)")),
]


def database_url(backend: str, tmp_path: Path) -> Iterator[str | None]:
    """None means the service's default: SQLite in its data dir."""
    if backend == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert PG_URL
    name = f"pgx_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_for_job(client, job_id: str, headers: dict[str, str], timeout: float = 120) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
