"""Checks that a webhook request comes from Twilio.

Twilio signs each request with HMAC-SHA1 over the URL it called followed by
every POST parameter, keyed with the account's auth token, and sends the
result in `X-Twilio-Signature`. The server must rebuild that URL exactly as
Twilio saw it, which differs from the local one behind a proxy or tunnel.
"""

import logging
from typing import Dict, List, Mapping, Optional
from urllib.parse import parse_qsl

from sanic.request import Request
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


class FormParameters(Dict[str, List[str]]):
    """POST parameters, each name with all its values, blanks included.

    `getlist` makes Twilio's `RequestValidator` read every value.
    """

    def getlist(self, name: str) -> List[str]:
        """Return all values of `name`."""
        return self[name]

    def first(self, name: str) -> Optional[str]:
        """Return the first value of `name`, or None if it is absent."""
        values = self.get(name)
        return values[0] if values else None


def parse_form(body: bytes) -> FormParameters:
    """Parse an `application/x-www-form-urlencoded` body.

    Sanic's `request.form` drops parameters with an empty value, such as the
    `Body=` of a photo sent without caption, but Twilio signs them too.

    Raises:
        UnicodeDecodeError: If the body is not UTF-8.
    """
    parameters = FormParameters()
    text = body.decode("utf-8")
    for name, value in parse_qsl(text, keep_blank_values=True):
        parameters.setdefault(name, []).append(value)
    return parameters


def _first_header_value(value: Optional[str]) -> Optional[str]:
    # Proxies append to X-Forwarded-* lists; the first entry is the client's.
    if not value:
        return None
    return value.split(",")[0].strip() or None


def public_request_url(request: Request, public_base_url: Optional[str]) -> str:
    """Rebuild the URL that Twilio requested.

    Args:
        request: The incoming request.
        public_base_url: Scheme, host and optional path prefix under which
            Twilio reaches this server, e.g. `https://chat.example.mx`. When
            empty, `X-Forwarded-Proto` and `X-Forwarded-Host` are used if a
            proxy set them, and the request's own scheme and Host otherwise.

    Returns:
        The full URL, with the query string if there was one.
    """
    path = request.path
    if request.query_string:
        path = f"{path}?{request.query_string}"

    if public_base_url:
        return public_base_url.rstrip("/") + path

    scheme = _first_header_value(request.headers.get("x-forwarded-proto"))
    host = _first_header_value(request.headers.get("x-forwarded-host"))
    scheme = scheme or request.scheme
    host = host or request.headers.get("host") or request.host
    return f"{scheme}://{host}{path}"


class SignatureChecker:
    """Validates `X-Twilio-Signature` with the account's auth token."""

    def __init__(self, auth_token: str, public_base_url: Optional[str]) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_base_url = public_base_url

    def url_for(self, request: Request) -> str:
        """Return the URL that the signature must cover for `request`."""
        return public_request_url(request, self._public_base_url)

    def is_valid(self, request: Request, parameters: Mapping[str, List[str]]) -> bool:
        """Tell whether the request carries a valid signature."""
        signature = request.headers.get(SIGNATURE_HEADER.lower())
        if not signature:
            return False
        return self._validator.validate(self.url_for(request), parameters, signature)
