"""Helpers for the service tests: a database per test on each backend, users, waiting for jobs.

PostgreSQL tests run when PGX_TEST_POSTGRES_URL names a server where the user may create databases
(.ci/run starts one from the Debian packages on loopback); each test gets its own fresh database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

PG_URL = os.environ.get("PGX_TEST_POSTGRES_URL")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: set PGX_TEST_POSTGRES_URL (CI starts one)"),
    ),
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


def wait_for_job(client: httpx.Client, job_id: str, headers: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


# -- a `pgx serve` subprocess ----------------------------------------------------------------------------


def _env() -> dict[str, str]:
    """The test's environment, minus a database URL that would silently redirect the SQLite runs."""
    return {k: v for k, v in os.environ.items() if k != "PGX_DATABASE_URL"}


def _db_args(database_url: str | None) -> list[str]:
    return ["--database-url", database_url] if database_url else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_user(data_dir: Path, database_url: str | None, name: str, role: str, password: str | None = None) -> str:
    """`pgx service add-user`, as an administrator would run it; returns the API token it prints."""
    cmd = [
        sys.executable,
        "-m",
        "pgx",
        "service",
        "add-user",
        name,
        "--role",
        role,
        "--data-dir",
        str(data_dir),
        *_db_args(database_url),
        *(["--password-stdin"] if password else []),
    ]
    proc = subprocess.run(
        cmd, input=f"{password}\n" if password else "", capture_output=True, text=True, timeout=60, env=_env()
    )
    assert proc.returncode == 0, f"add-user {name} failed:\n{proc.stderr}"
    token = proc.stdout.splitlines()[0].strip()
    assert token.startswith("pgx_"), proc.stdout
    return token


class PgxServer:
    """`python -m pgx serve` on a free loopback port, in its own process group, logging to a file.

    ``start`` may be called again after ``kill``: a restart on the same port, data dir and database.
    """

    def __init__(self, data_dir: Path, database_url: str | None, *options: str) -> None:
        self.data_dir, self.database_url, self.options = data_dir, database_url, options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.logs: list[Path] = []

    def start(self, timeout: float = 30) -> None:
        self.starts += 1
        log = self.data_dir.parent / f"server-{self.port}-{self.starts}.log"
        self.logs.append(log)
        cmd = [
            sys.executable,
            "-m",
            "pgx",
            "serve",
            "--data-dir",
            str(self.data_dir),
            *_db_args(self.database_url),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--insecure-cookies",
            *self.options,
        ]
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"pgx serve exited with {self.proc.returncode}{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return  # uvicorn listens only after the app started (migrations done, job workers running)
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"pgx serve did not listen on port {self.port} within {timeout} s{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the server and its worker processes at once: a crash, no chance to clean up."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then make sure nothing of the process group is left."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # a pool worker or resource tracker may outlive the server
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        text = "".join(f"--- {p.name} ---\n{p.read_text(errors='replace')}" for p in self.logs if p.exists())
        return f"\n\nserver log:\n{text[-chars:]}"

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def poll_job(
    server: PgxServer, client: httpx.Client, job_id: str, until: tuple[str, ...], timeout: float, seen: list[str]
) -> dict[str, Any]:
    """Poll GET /v1/jobs/{id} until its status is one of ``until``; appends each new status to ``seen``."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job_id} still {job['status']} after {timeout} s (statuses seen: {seen}){server.log_tail()}"
            )
        time.sleep(0.05)
