"""User accounts and sessions of the dashboard: Argon2 password hashes, random session tokens stored hashed,
a CSRF token per session, and a throttle on failed logins. Every change is written to the audit log."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from safercities.errors import InputError, check_choice
from safercities.workspace import Workspace

ROLES = ("admin", "analyst", "viewer")
MIN_PASSWORD = 10
SESSION_HOURS = 12
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def users(ws: Workspace) -> list[dict[str, object]]:
    """Accounts without their password hashes."""
    frame = ws.store.read("users").drop(columns=["password_hash"]).sort_values("username")
    return frame.to_dict("records")  # type: ignore[return-value]


def create_user(ws: Workspace, username: str, password: str, role: str, *, by: str = "") -> None:
    """A new account; the password is kept only as its Argon2 hash."""
    check_choice("role", role, ROLES, "the new user")
    username = username.strip()
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise InputError(f"user name {username!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password of {username!r} is too short: use at least {MIN_PASSWORD} characters")
    if ws.store.read("users", "username = ?", [username]).shape[0]:
        raise InputError(f"user {username!r} exists already")
    with ws.store.transaction():
        ws.store.append(
            "users",
            pa.table(
                {
                    "username": [username],
                    "password_hash": [_hasher.hash(password)],
                    "role": [role],
                    "created_at": pa.array([_now()], pa.timestamp("us", tz="UTC")),
                    "disabled": [False],
                }
            ),
        )
        ws.record_change("create_user", f"user:{username}", {"role": role, "by": by or None})


def set_role(ws: Workspace, username: str, role: str, *, by: str) -> None:
    check_choice("role", role, ROLES, f"user {username!r}")
    with ws.store.transaction():
        if not ws.store.update("users", {"role": role}, "username = ?", [username]):
            raise InputError(f"no user {username!r}")
        ws.record_change("set_role", f"user:{username}", {"role": role, "by": by})


def disable_user(ws: Workspace, username: str, *, by: str) -> None:
    """Disable an account and end its sessions (accounts are never deleted: the audit log names them)."""
    with ws.store.transaction():
        if not ws.store.update("users", {"disabled": True}, "username = ?", [username]):
            raise InputError(f"no user {username!r}")
        ws.store.delete("sessions", "username = ?", [username])
        ws.record_change("disable_user", f"user:{username}", {"by": by})


def authenticate(ws: Workspace, username: str, password: str) -> str | None:
    """The user's role when the password is right and the account enabled; else None (constant work)."""
    rows = ws.store.read("users", "username = ?", [username])
    stored = str(rows["password_hash"].iloc[0]) if len(rows) else _hasher.hash("not-a-user-" + secrets.token_hex(4))
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if not len(rows) or bool(rows["disabled"].iloc[0]):
        return None
    return str(rows["role"].iloc[0])


def open_session(ws: Workspace, username: str) -> tuple[str, Session]:
    """A new session: the token for the cookie (kept only hashed) and the session with its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    role = str(ws.store.read("users", "username = ?", [username])["role"].iloc[0])
    now = _now()
    with ws.store.transaction():
        ws.store.delete("sessions", "expires_at < ?", [now])
        ws.store.append(
            "sessions",
            pa.table(
                {
                    "token_hash": [_digest(token)],
                    "username": [username],
                    "csrf_token": [csrf],
                    "created_at": pa.array([now], pa.timestamp("us", tz="UTC")),
                    "expires_at": pa.array([now + timedelta(hours=SESSION_HOURS)], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
        ws.record_change("login", f"user:{username}", {})
    return token, Session(username, role, csrf)


def session_of(ws: Workspace, token: str | None) -> Session | None:
    """The live session of a cookie token, or None (expired, ended, or the account disabled)."""
    if not token:
        return None
    rows = ws.store.read("sessions", "token_hash = ? AND expires_at > ?", [_digest(token), _now()])
    if not len(rows):
        return None
    username = str(rows["username"].iloc[0])
    user = ws.store.read("users", "username = ?", [username])
    if not len(user) or bool(user["disabled"].iloc[0]):
        return None
    return Session(username, str(user["role"].iloc[0]), str(rows["csrf_token"].iloc[0]))


def close_session(ws: Workspace, token: str | None) -> None:
    if token:
        with ws.store.transaction():
            ws.store.delete("sessions", "token_hash = ?", [_digest(token)])


class LoginThrottle:
    """At most ``attempts`` failed logins per client address and user name in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures, cutoff = self._failures[key], time.monotonic() - self.window
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def blocked(self, client: str, username: str) -> bool:
        return len(self._recent((client, username.lower()))) >= self.attempts

    def failed(self, client: str, username: str) -> None:
        self._recent((client, username.lower())).append(time.monotonic())

    def succeeded(self, client: str, username: str) -> None:
        self._failures.pop((client, username.lower()), None)
