"""Tokens encrypted at rest with AES-GCM (``cryptography``), each ciphertext naming its key.

An envelope is ``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``. The key id lets keys
rotate: a :class:`TokenCipher` holds every key it may still need to decrypt with and encrypts
with the current one; ``kairo keys rotate`` re-encrypts old envelopes under the current key.
The associated data binds a ciphertext to its row and field, so an envelope copied into another
connection's row (or into another field) does not decrypt.
"""

from __future__ import annotations

import base64
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVELOPE = re.compile(r"^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+={0,2})$")
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NONCE_BYTES = 12


class TokenKeyError(Exception):
    """A ciphertext cannot be opened: unknown key id, wrong row, or tampered with."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def new_key() -> str:
    """A fresh 256-bit key, base64url (what goes into ``KAIRO_TOKEN_KEYS``)."""
    return _b64(AESGCM.generate_key(bit_length=256))


def parse_keys(spec: str) -> dict[str, bytes]:
    """``"kid1:base64key,kid2:base64key"`` → {kid: key}; each key 16, 24 or 32 bytes."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, encoded = part.partition(":")
        if not KEY_ID.match(kid):
            raise ValueError(f"token key id {kid!r} must be 1-32 letters, digits, '-' or '_'")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(key) not in (16, 24, 32):
            raise ValueError(f"token key {kid!r} must be 128, 192 or 256 bits")
        keys[kid] = key
    return keys


class TokenCipher:
    """Encrypt with ``current``; decrypt with any key in ``keys``."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current token key {current!r} is not among the keys")
        self.keys = dict(keys)
        self.current = current

    def encrypt(self, plaintext: str, aad: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), aad.encode())
        return f"v1.{self.current}.{_b64(nonce + sealed)}"

    def decrypt(self, envelope: str, aad: str) -> str:
        match = ENVELOPE.match(envelope)
        if match is None:
            raise TokenKeyError("not a token envelope")
        kid, body = match.groups()
        if kid not in self.keys:
            raise TokenKeyError(f"no token key {kid!r} to decrypt with")
        raw = base64.urlsafe_b64decode(body)
        try:
            return AESGCM(self.keys[kid]).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode()).decode()
        except InvalidTag as exc:
            raise TokenKeyError("token ciphertext does not open (wrong row, field or key)") from exc

    @staticmethod
    def key_id(envelope: str) -> str | None:
        match = ENVELOPE.match(envelope)
        return match.group(1) if match else None

    def rotate(self, envelope: str, aad: str) -> str | None:
        """The envelope under the current key; None when it already is."""
        if self.key_id(envelope) == self.current:
            return None
        return self.encrypt(self.decrypt(envelope, aad), aad)


__all__ = ["TokenCipher", "TokenKeyError", "new_key", "parse_keys"]
