"""Service settings: one object, built from CLI options, so tests and ``pgx serve`` configure it the same way."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel, Field


class ServiceSettings(BaseModel):
    data_dir: Path = Field(description="Uploads, rule sets and the default SQLite database live here")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///DATA_DIR/pgx.sqlite3")
    max_upload_bytes: int = Field(512 * 1024 * 1024, gt=0, description="Largest VCF/BCF accepted")
    workers: int = Field(1, ge=0, description="Job worker threads (0: jobs are queued but not run here)")
    lease_seconds: float = Field(30.0, gt=0, description="A running job whose heartbeat is older is re-queued")
    max_attempts: int = Field(2, ge=1, description="After this many interrupted runs a job is marked failed")
    secure_cookies: bool = Field(True, description="Session cookie only over HTTPS (off for plain-HTTP loopback)")
    secret_key: str | None = Field(None, description="Signs session cookies; generated and kept in DATA_DIR")
    login_failures_allowed: int = Field(5, ge=1, description="Failed logins per user or address per window")
    login_window_seconds: int = Field(900, gt=0)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pgx.sqlite3').resolve()}"

    @property
    def uploads(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def rulesets(self) -> Path:
        return self.data_dir / "rulesets"

    def session_secret(self) -> str:
        """A stable secret without configuration: created once, readable only by the service's user."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "session.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()
