"""Settings of the delivery worker, read from ``endpoints.yml``.

Two sections of ``endpoints.yml`` configure the worker; Rasa ignores them::

    escalation:               # the on-call channel for escalated cases
      url: ${ESCALATION_URL}
      secret: ${ESCALATION_SECRET}
      whatsapp_alert_to: ${ESCALATION_WHATSAPP_TO}
      deadline_minutes: 10
    case_delivery:            # e-mail and webhooks of the bodies
      smtp_url: ${SMTP_URL}
      email_from: ChatCun <chatcun@cancun.gob.mx>
      webhook_secret: ${CASE_WEBHOOK_SECRET}

``${VAR}`` is replaced with the environment variable, as Rasa does. Rasa
stops when such a variable is undefined, so each one must be defined where
Rasa runs too; an empty value turns the option off. The WhatsApp alert uses
the Twilio account of the WhatsApp channel: ``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN``, ``TWILIO_WHATSAPP_NUMBER`` and optionally
``TWILIO_API_BASE_URL`` from the environment.
"""

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

import yaml

_ENV_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_WHATSAPP_PREFIX = "whatsapp:"
_TWILIO_VARIABLES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WHATSAPP_NUMBER",
)
DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"


class SettingsError(ValueError):
    """A worker setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class WhatsAppAlert:
    """A WhatsApp message to the on-duty number, sent through Twilio."""

    to: str
    from_: str
    account_sid: str
    auth_token: str
    api_base_url: str = DEFAULT_TWILIO_API_BASE_URL

    def __repr__(self) -> str:
        # Keeps the auth token and the on-duty number out of logs.
        return (
            f"WhatsAppAlert(from_={self.from_!r}, "
            f"api_base_url={self.api_base_url!r})"
        )


@dataclass(frozen=True)
class EscalationSettings:
    """The on-call channel and the worker's timing.

    Attributes:
        url: The on-call webhook; None leaves escalations pending, with an
            error logged at every retry.
        secret: Key of the HMAC-SHA256 signature of each webhook body.
        whatsapp: The optional WhatsApp alert.
        deadline: Time after the case's creation from which every failed
            attempt is logged as an error.
        timeout_seconds: Time allowed to connect and to read the response.
        retry_initial_seconds, retry_max_seconds: Backoff between attempts,
            doubled each time up to the maximum.
        lease_seconds: How long a worker holds a row; another worker takes
            it over after that, for example when the first one was killed.
    """

    url: Optional[str]
    secret: Optional[str]
    whatsapp: Optional[WhatsAppAlert]
    deadline: timedelta = timedelta(minutes=10)
    timeout_seconds: float = 10.0
    retry_initial_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    lease_seconds: float = 60.0

    def __repr__(self) -> str:
        return (
            f"EscalationSettings(url={self.url!r}, whatsapp={self.whatsapp!r}, "
            f"deadline={self.deadline}, timeout_seconds={self.timeout_seconds})"
        )


@dataclass(frozen=True)
class CaseDeliverySettings:
    """Settings for sending cases to bodies by e-mail or webhook."""

    smtp_url: Optional[str] = None
    email_from: str = "ChatCun <chatcun@cancun.gob.mx>"
    webhook_secret: Optional[str] = None
    deadline: timedelta = timedelta(hours=24)

    def __repr__(self) -> str:
        smtp = urlsplit(self.smtp_url).hostname if self.smtp_url else None
        return (
            f"CaseDeliverySettings(smtp_host={smtp!r}, "
            f"email_from={self.email_from!r})"
        )


@dataclass(frozen=True)
class WorkerSettings:
    """Everything the delivery worker reads from ``endpoints.yml``."""

    escalation: EscalationSettings
    case_delivery: CaseDeliverySettings


def load_settings(
    path: Path, environ: Optional[Mapping[str, str]] = None
) -> WorkerSettings:
    """Read the worker's sections of an endpoints file.

    Raises:
        SettingsError: If the file cannot be read, a `${VAR}` is undefined,
            or a setting is invalid. The message names the setting.
    """
    environ = os.environ if environ is None else environ
    try:
        # BaseLoader keeps every value as text, the way it was written, so a
        # process that imported Rasa (which changes PyYAML's SafeLoader to
        # expand variables) reads the file like the worker does.
        data = yaml.load(path.read_text("utf-8"), Loader=yaml.BaseLoader) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(
            f"{path}: cannot read the endpoints file: {error}"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping at the top of the file")

    escalation = _section(data, "escalation", path, environ)
    case_delivery = _section(data, "case_delivery", path, environ)
    return WorkerSettings(
        escalation=_escalation(escalation, environ),
        case_delivery=_case_delivery(case_delivery),
    )


def _section(
    data: Dict[str, Any], name: str, path: Path, environ: Mapping[str, str]
) -> Dict[str, str]:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: {name}: expected a mapping of settings")
    values = {}
    for key, value in section.items():
        if not isinstance(value, str):
            raise SettingsError(f"{name}.{key}: expected a single value")
        values[key] = _expand(value, f"{name}.{key}", environ)
    return values


def _expand(value: str, setting: str, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match) -> str:
        variable = match.group(1)
        if variable not in environ:
            raise SettingsError(
                f"{setting}: environment variable {variable} is not defined; define "
                "it, empty to turn the option off"
            )
        return environ[variable]

    return _ENV_REFERENCE.sub(replace, value).strip()


def _escalation(
    values: Dict[str, str], environ: Mapping[str, str]
) -> EscalationSettings:
    _check_keys(
        values,
        "escalation",
        (
            "url",
            "secret",
            "whatsapp_alert_to",
            "deadline_minutes",
            "timeout_seconds",
            "retry_initial_seconds",
            "retry_max_seconds",
            "lease_seconds",
        ),
    )
    url = _url(values, "escalation", "url")
    secret = values.get("secret") or None
    if url and not secret:
        raise SettingsError(
            "escalation.secret: missing; the on-call webhook only gets signed bodies"
        )
    timeout = _number(values, "escalation", "timeout_seconds", 10.0)
    lease = _number(values, "escalation", "lease_seconds", max(60.0, timeout * 3))
    if lease <= timeout * 2:
        raise SettingsError(
            f"escalation.lease_seconds: must be more than twice timeout_seconds "
            f"({timeout:g}), so that no other worker takes a row over mid-attempt"
        )
    initial = _number(values, "escalation", "retry_initial_seconds", 5.0)
    maximum = _number(values, "escalation", "retry_max_seconds", 300.0)
    if maximum < initial:
        raise SettingsError(
            "escalation.retry_max_seconds: must not be less than retry_initial_seconds"
        )
    return EscalationSettings(
        url=url,
        secret=secret,
        whatsapp=_whatsapp_alert(values.get("whatsapp_alert_to"), environ),
        deadline=timedelta(
            minutes=_number(values, "escalation", "deadline_minutes", 10)
        ),
        timeout_seconds=timeout,
        retry_initial_seconds=initial,
        retry_max_seconds=maximum,
        lease_seconds=lease,
    )


def _whatsapp_alert(
    to: Optional[str], environ: Mapping[str, str]
) -> Optional[WhatsAppAlert]:
    if not to:
        return None
    missing = [
        name
        for name in _TWILIO_VARIABLES
        if not environ.get(name)
    ]
    if missing:
        raise SettingsError(
            f"escalation.whatsapp_alert_to: set, but {', '.join(missing)} missing "
            "from the environment; the alert uses the WhatsApp channel's Twilio "
            "account"
        )
    api_base_url = environ.get("TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL
    if not api_base_url.startswith(("https://", "http://")):
        raise SettingsError(
            f"TWILIO_API_BASE_URL: invalid URL {api_base_url!r}; it must start "
            "with https://"
        )
    return WhatsAppAlert(
        to=_whatsapp_address(to),
        from_=_whatsapp_address(environ["TWILIO_WHATSAPP_NUMBER"]),
        account_sid=environ["TWILIO_ACCOUNT_SID"],
        auth_token=environ["TWILIO_AUTH_TOKEN"],
        api_base_url=api_base_url.rstrip("/"),
    )


def _case_delivery(values: Dict[str, str]) -> CaseDeliverySettings:
    _check_keys(
        values,
        "case_delivery",
        ("smtp_url", "email_from", "webhook_secret", "deadline_minutes"),
    )
    smtp_url = values.get("smtp_url") or None
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        raise SettingsError(
            "case_delivery.smtp_url: must start with smtp:// (STARTTLS when the "
            "server offers it) or smtps://, e.g. smtp://user:password@host:587"
        )
    defaults = CaseDeliverySettings()
    return CaseDeliverySettings(
        smtp_url=smtp_url,
        email_from=values.get("email_from") or defaults.email_from,
        webhook_secret=values.get("webhook_secret") or None,
        deadline=timedelta(
            minutes=_number(values, "case_delivery", "deadline_minutes", 24 * 60)
        ),
    )


def _check_keys(values: Dict[str, str], section: str, allowed: tuple) -> None:
    for key in values:
        if key not in allowed:
            raise SettingsError(
                f"{section}.{key}: unknown setting; allowed: {', '.join(allowed)}"
            )


def _url(values: Dict[str, str], section: str, key: str) -> Optional[str]:
    value = values.get(key) or None
    if value is not None and not value.startswith(("https://", "http://")):
        raise SettingsError(
            f"{section}.{key}: invalid URL {value!r}; it must start with https://"
        )
    return value


def _number(values: Dict[str, str], section: str, key: str, default: float) -> float:
    text = values.get(key)
    if not text:
        return float(default)
    try:
        number = float(text)
    except ValueError:
        raise SettingsError(
            f"{section}.{key}: expected a number, got {text!r}"
        ) from None
    if number <= 0:
        raise SettingsError(f"{section}.{key}: must be greater than 0, got {text}")
    return number


def _whatsapp_address(number: str) -> str:
    number = number.strip()
    return number if number.startswith(_WHATSAPP_PREFIX) else _WHATSAPP_PREFIX + number
