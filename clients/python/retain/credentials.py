"""Credentials for `CallHeader.authorization` (PROTOCOL.md §8, docs/SECURITY.md).

* At the gateway: ``ApiKey <key>`` (`api_key`).
* At any service, and at the gateway: ``Bearer <service token>`` (`bearer`), a token signed
  with the suite's shared secret (`mint_service_token`, or ``retain-gateway mint-token``).

`Health/Check` and `Health/Watch` need no credential; every other call does, unless the server
runs with ``--insecure-no-auth``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Iterable, Optional

__all__ = ["api_key", "bearer", "mint_service_token"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def api_key(key: str) -> str:
    """The `authorization` value for an API key (accepted by the gateway)."""
    return "ApiKey " + key.strip()


def bearer(token: str) -> str:
    """The `authorization` value for a service token (accepted by every service)."""
    token = token.strip()
    return token if token.startswith("Bearer ") else "Bearer " + token


def mint_service_token(
    secret: str,
    scopes: Iterable[str],
    *,
    issuer: str = "python",
    subject: str = "client",
    ttl_seconds: float = 300.0,
    now: Optional[float] = None,
) -> str:
    """A service token, byte-exact as docs/SECURITY.md defines it:
    ``v1.<issuer>.<subject>.<scopes>.<expires ms>.<mac>``, where mac is base64url without
    padding of HMAC-SHA256, keyed with the secret's UTF-8 bytes (surrounding whitespace
    removed), over everything before the last ``.``. Send it as ``bearer(token)``.

    Servers refuse tokens expiring more than 24 h ahead, and allow 30 s of clock skew.
    """
    for label, value in (("issuer", issuer), ("subject", subject)):
        if not _NAME.match(value):
            raise ValueError(f"{label} must be 1 to 64 characters of A-Z a-z 0-9 _ -: {value!r}")
    scope_list = list(scopes)
    for scope in scope_list:
        if not scope or "," in scope or "." in scope or " " in scope:
            raise ValueError(f"malformed scope {scope!r}")
    key = secret.strip().encode("utf-8")
    if not key:
        raise ValueError("empty service secret")
    issued = time.time() if now is None else now
    expires_ms = int(issued * 1000) + int(ttl_seconds * 1000)
    body = f"v1.{issuer}.{subject}.{','.join(scope_list)}.{expires_ms}"
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
