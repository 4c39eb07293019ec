"""Personal data at rest: Fernet encryption (several keys, for rotation) plus a keyed lookup hash for NIKs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Cipher:
    """Encrypts with the first key and decrypts with any; the lookup hash needs the HMAC key to compute."""

    def __init__(self, *, encryption_keys: Sequence[str], lookup_key: str) -> None:
        if not encryption_keys:
            raise ValueError("at least one encryption key is required")
        if len(lookup_key) < 32:
            raise ValueError("the lookup key must be at least 32 characters")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in encryption_keys])
        self._lookup_key = lookup_key.encode()

    def encrypt(self, nik: str) -> str:
        return self._fernet.encrypt(nik.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise ValueError("data cannot be decrypted with the configured keys") from error

    def rotate(self, token: str) -> str:
        """Re-encrypt under the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()

    def lookup_hash(self, nik: str) -> str:
        return hmac.new(self._lookup_key, nik.encode(), hashlib.sha256).hexdigest()


def new_encryption_key() -> str:
    return Fernet.generate_key().decode()


def new_lookup_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
