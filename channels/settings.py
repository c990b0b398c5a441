"""Settings of the WhatsApp channel, read from its block in credentials.yml.

Rasa replaces `${VAR}` in credentials.yml with the environment variable and
stops if the variable is not defined. So every variable named there must be
defined, and an empty value means "use the default".
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from channels.phone import WHATSAPP_PREFIX

DEFAULT_TWILIO_NUMBER = "whatsapp:+529987784500"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_MEDIA_DIR = "var/media"
DEFAULT_MAX_CONCURRENT_TURNS = 2

_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}


class InvalidSettingError(ValueError):
    """A setting of the WhatsApp channel is missing or malformed."""


def _text(credentials: Mapping[str, Any], name: str) -> Optional[str]:
    value = credentials.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required(credentials: Mapping[str, Any], name: str) -> str:
    value = _text(credentials, name)
    if value is None:
        raise InvalidSettingError(
            f"The whatsapp channel needs '{name}' in its credentials.yml block."
        )
    return value


def _flag(credentials: Mapping[str, Any], name: str, default: bool) -> bool:
    value = credentials.get(name)
    if isinstance(value, bool):
        return value
    text = _text(credentials, name)
    if text is None:
        return default
    if text.lower() in _TRUE_WORDS:
        return True
    if text.lower() in _FALSE_WORDS:
        return False
    raise InvalidSettingError(
        f"Invalid value {text!r} for '{name}' of the whatsapp channel; "
        f"use true or false."
    )


def _http_url(credentials: Mapping[str, Any], name: str) -> Optional[str]:
    value = _text(credentials, name)
    if value is None:
        return None
    if not value.startswith(("https://", "http://")):
        raise InvalidSettingError(
            f"Invalid URL {value!r} for '{name}' of the whatsapp channel; "
            f"it must start with https:// or http://."
        )
    return value.rstrip("/")


def _positive_int(credentials: Mapping[str, Any], name: str, default: int) -> int:
    text = _text(credentials, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidSettingError(
            f"Invalid value {text!r} for '{name}' of the whatsapp channel; "
            f"use a whole number of at least 1."
        )
    return value


def _whatsapp_address(value: str) -> str:
    if value.startswith(WHATSAPP_PREFIX):
        return value
    return f"{WHATSAPP_PREFIX}{value}"


@dataclass(frozen=True)
class WhatsAppSettings:
    """Validated settings of the WhatsApp channel.

    Attributes:
        account_sid: Twilio account SID (`AC...`).
        auth_token: Twilio auth token; signs webhooks and authenticates API
            calls and media downloads.
        twilio_number: The assistant's WhatsApp sender address.
        validate_signature: Whether to reject requests without a valid
            `X-Twilio-Signature`. Only local development turns it off.
        public_base_url: Scheme, host and path prefix under which Twilio
            reaches the server; also used for the status callback URL.
        api_base_url: Base URL of Twilio's REST API.
        media_dir: Folder where received media files are saved.
        redis_url: Redis for message deduplication and pending buttons shared
            by several server processes; None keeps them in memory.
        max_concurrent_turns: Turns that Rasa processes at once in this
            process. Rasa's NLU and policies run on the event loop, so more
            turns at once delay the webhook responses behind them.
    """

    account_sid: str
    auth_token: str
    twilio_number: str = DEFAULT_TWILIO_NUMBER
    validate_signature: bool = True
    public_base_url: Optional[str] = None
    api_base_url: str = DEFAULT_API_BASE_URL
    media_dir: Path = Path(DEFAULT_MEDIA_DIR)
    redis_url: Optional[str] = None
    max_concurrent_turns: int = DEFAULT_MAX_CONCURRENT_TURNS

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "WhatsAppSettings":
        """Read and check the channel's block of credentials.yml.

        `redis_url` falls back to the `REDIS_URL` environment variable.

        Raises:
            InvalidSettingError: If a setting is missing or malformed.
        """
        twilio_number = _text(credentials, "twilio_number") or DEFAULT_TWILIO_NUMBER
        redis_url = _text(credentials, "redis_url") or os.environ.get("REDIS_URL")
        return cls(
            account_sid=_required(credentials, "account_sid"),
            auth_token=_required(credentials, "auth_token"),
            twilio_number=_whatsapp_address(twilio_number),
            validate_signature=_flag(credentials, "validate_signature", True),
            public_base_url=_http_url(credentials, "public_base_url"),
            api_base_url=(
                _http_url(credentials, "api_base_url") or DEFAULT_API_BASE_URL
            ),
            media_dir=Path(_text(credentials, "media_dir") or DEFAULT_MEDIA_DIR),
            redis_url=(redis_url or "").strip() or None,
            max_concurrent_turns=_positive_int(
                credentials, "max_concurrent_turns", DEFAULT_MAX_CONCURRENT_TURNS
            ),
        )

    def __repr__(self) -> str:
        # Keeps the auth token and any Redis password out of logs.
        return (
            f"WhatsAppSettings(twilio_number={self.twilio_number!r}, "
            f"validate_signature={self.validate_signature}, "
            f"public_base_url={self.public_base_url!r}, "
            f"api_base_url={self.api_base_url!r}, media_dir={str(self.media_dir)!r}, "
            f"redis={'yes' if self.redis_url else 'no'}, "
            f"max_concurrent_turns={self.max_concurrent_turns})"
        )
