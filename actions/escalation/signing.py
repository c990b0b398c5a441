"""Signatures of the webhook bodies the worker sends.

Each request carries ``X-ChatCun-Signature: t=<unix time>,v1=<hex>``, where
the hex digest is HMAC-SHA256 with the shared secret over
``<unix time>.<raw body>``. A receiver recomputes it over the raw bytes it
got, compares in constant time, and rejects a time too far from its clock,
so that a recorded request cannot be replayed later.
"""

import hashlib
import hmac
import time
from typing import Optional

SIGNATURE_HEADER = "X-ChatCun-Signature"
DELIVERY_HEADER = "X-ChatCun-Delivery"
ATTEMPT_HEADER = "X-ChatCun-Attempt"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: Optional[int] = None) -> str:
    """Return the signature header value for a body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = _digest(secret, timestamp, body)
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    body: bytes,
    header: Optional[str],
    now: Optional[float] = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Tell whether a signature header is valid for the body and recent."""
    if not header:
        return False
    fields = dict(
        part.split("=", 1) for part in header.split(",") if "=" in part
    )
    try:
        timestamp = int(fields["t"])
        received = fields["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(received, _digest(secret, timestamp, body))


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
