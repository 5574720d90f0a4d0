"""Who may do what: users with one role each, API tokens for pipelines, passwords for people.

Tokens and passwords are never stored: a token is kept as its SHA-256 (it is random and long, so a
fast hash is enough and lets us look it up), a password as an argon2 hash (slow on purpose).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pgx.errors import UsageError
from pgx.service.db import ROLES, LoginAttempt, User, utcnow

_hasher = PasswordHasher()

# what each role may do; admin may do everything
PERMISSIONS: dict[str, set[str]] = {
    "submit": {"pipeline", "admin"},
    "read": {"pipeline", "pharmacist", "admin"},
    "review": {"pharmacist", "admin"},
    "curate": {"curator", "admin"},
    "admin": {"admin"},
    "info": set(ROLES),
}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(s: Session, name: str, role: str, password: str | None = None, with_token: bool = False) -> str | None:
    """Create a user; returns the API token (shown once, never stored) when one is asked for."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UsageError(f"user name {name!r} must be 1-64 letters, digits, '-', '_' or '.'")
    if s.scalar(select(User).where(User.name == name)) is not None:
        raise UsageError(f"user {name!r} exists already")
    if password is not None and len(password) < 12:
        raise UsageError("a password needs at least 12 characters")
    token = f"pgx_{secrets.token_urlsafe(32)}" if with_token else None
    s.add(
        User(
            name=name,
            role=role,
            password_hash=_hasher.hash(password) if password else None,
            token_hash=token_digest(token) if token else None,
            active=True,
        )
    )
    return token


def user_for_token(s: Session, token: str) -> User | None:
    user = s.scalar(select(User).where(User.token_hash == token_digest(token)))
    return user if user is not None and user.active else None


def check_password(user: User, password: str) -> bool:
    if not user.active or not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login_blocked(s: Session, username: str, address: str, allowed: int, window_s: int) -> bool:
    """Too many failures for this user name or from this address in the window: slow guessing down."""
    since = utcnow() - dt.timedelta(seconds=window_s)
    failures = s.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.at >= since,
            LoginAttempt.ok.is_(False),
            (LoginAttempt.username == username) | (LoginAttempt.address == address),
        )
    )
    return bool(failures and failures >= allowed)


def record_login(s: Session, username: str, address: str, ok: bool) -> None:
    s.add(LoginAttempt(username=username[:64], address=address[:64], ok=ok))


def allowed(user: User, permission: str) -> bool:
    return user.role in PERMISSIONS[permission]
