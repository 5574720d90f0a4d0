"""`pgx serve` and `pgx service ...`: run the HTTP service, manage its users, export its OpenAPI spec."""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pgx.cli.common import err
from pgx.fileio import atomic_write_text

if TYPE_CHECKING:
    from pgx.service.config import ServiceSettings

service_app = typer.Typer(help="Users and the OpenAPI spec of the pgx service.", no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Uploads, rule sets, and the default SQLite database")]
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PGX_DATABASE_URL",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: SQLite in --data-dir)",
    ),
]


def _settings(data_dir: Path, database_url: str | None, **kw: object) -> ServiceSettings:
    from pgx.service.config import ServiceSettings  # the service stack loads only for service commands

    return ServiceSettings(data_dir=data_dir, database_url=database_url, **kw)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    data_dir: DataDir = Path("pgx-service"),
    database_url: DbUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Job worker processes")] = 1,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted, in MiB")] = 512,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--insecure-cookies",
            help="Session cookie only over HTTPS (default: on unless listening on loopback)",
        ),
    ] = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            help="A running job whose worker has been silent this long is re-queued (or failed after --max-attempts)"
        ),
    ] = 30.0,
    max_attempts: Annotated[int, typer.Option(help="Interrupted runs before a job is marked failed")] = 2,
) -> None:
    """Run the HTTP API and the review pages (jobs survive restarts; state is in the database)."""
    import uvicorn

    from pgx.service.api import create_app

    secure = secure_cookies if secure_cookies is not None else not _loopback(host)
    settings = _settings(
        data_dir,
        database_url,
        workers=workers,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        secure_cookies=secure,
        lease_seconds=lease_seconds,
        max_attempts=max_attempts,
    )
    err.print(f"pgx service on http://{host}:{port} (data in {data_dir}; API docs at /docs)", markup=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


@service_app.command("add-user")
def add_user(
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help="pipeline, pharmacist, curator or admin")],
    data_dir: DataDir = Path("pgx-service"),
    database_url: DbUrl = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read a password from stdin")] = False,
    token: Annotated[bool, typer.Option("--token/--no-token", help="Create an API token (printed once)")] = True,
) -> None:
    """Create a user. The API token is printed once on stdout; only its hash is stored."""
    from pgx.service import auth
    from pgx.service.db import Database, migrate

    settings = _settings(data_dir, database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.url)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with Database(settings.url).session() as s:
        secret = auth.add_user(s, name, role, password=password, with_token=token)
    if secret:
        print(secret)
    err.print(f"user {name} ({role}) created", markup=False)


@service_app.command("openapi")
def openapi(
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Write here (default: stdout)")] = None,
) -> None:
    """The service's OpenAPI spec (committed as schemas/openapi.json)."""
    import tempfile

    from pgx.service.api import create_app

    with tempfile.TemporaryDirectory() as tmp:
        spec = create_app(_settings(Path(tmp), None, workers=0)).openapi()
    text = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(out, text)
