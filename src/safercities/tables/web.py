"""Tables of the web app: user accounts and their sessions (the audit log is the workspace's own)."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "users": {
        "username": "VARCHAR PRIMARY KEY",
        "password_hash": "VARCHAR NOT NULL",
        "role": "VARCHAR NOT NULL",
        "created_at": "TIMESTAMPTZ NOT NULL",
        "disabled": "BOOLEAN NOT NULL",
    },
    "sessions": {
        "token_hash": "VARCHAR PRIMARY KEY",
        "username": "VARCHAR NOT NULL",
        "csrf_token": "VARCHAR NOT NULL",
        "created_at": "TIMESTAMPTZ NOT NULL",
        "expires_at": "TIMESTAMPTZ NOT NULL",
    },
}
