"""Encrypts connector secrets at rest with Fernet, using a key from the environment or a key file outside the repo."""

from __future__ import annotations

import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from govsocial_app.config import get_settings


class SecretsError(Exception):
    pass


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    settings = get_settings()
    key = settings.secret_key.strip()
    if not key:
        path = settings.key_file
        if path.exists():
            key = path.read_text().strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key().decode()
            # Create the file readable by its owner only before writing the key into it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key + "\n")
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise SecretsError("GOVSOCIAL_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes)") from exc


def encrypt_json(data: dict) -> str:
    if not data:
        return ""
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretsError("stored secrets cannot be decrypted with the configured key") from exc


def reset_cache() -> None:
    _fernet.cache_clear()
