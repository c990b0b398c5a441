"""Senders: one attempt to hand an outbox row to its receiver.

Each sender returns an `Outcome` instead of raising. An acknowledgement is a
2xx response (webhooks, Twilio) or an accepted SMTP transaction. An attempt
that may have reached the receiver without its answer reaching us (a read
timeout, a dropped connection) is `uncertain`: webhooks and e-mails repeat it
with the same delivery id or Message-ID so the receiver can drop the copy,
and the WhatsApp alert first looks for the message in Twilio's log.
"""

import json
import smtplib
import socket
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, Dict, Optional
from urllib.parse import unquote, urlsplit

import requests

from actions.escalation.config import WhatsAppAlert
from actions.escalation.outbox import ClaimedMessage
from actions.escalation.signing import (
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    sign,
)

MAX_ERROR_BODY = 200
REQUEST_TYPE_NAMES = {
    "reporte": "reporte",
    "tramite": "trámite",
    "asesoria": "asesoría",
    "consulta": "consulta",
    "denuncia": "denuncia",
    "violencia": "violencia",
}


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt.

    Attributes:
        acknowledged: Whether the receiver confirmed it got the message.
        error: What failed, for the log and the row's `last_error`.
        uncertain: Whether the receiver may have got it anyway.
        detail: The receiver's response, such as Twilio's message SID.
    """

    acknowledged: bool
    error: Optional[str] = None
    uncertain: bool = False
    detail: Optional[str] = None


def _request_error(error: requests.RequestException, timeout: float) -> Outcome:
    """Describe a failed HTTP request and whether it may have arrived."""
    if isinstance(error, requests.ConnectTimeout):
        return Outcome(False, f"connection timed out after {timeout:g} s")
    if isinstance(error, requests.ReadTimeout):
        return Outcome(
            False, f"no response within {timeout:g} s", uncertain=True
        )
    if isinstance(error, requests.ConnectionError) and _refused(error):
        return Outcome(False, f"connection refused: {error}")
    return Outcome(False, f"{type(error).__name__}: {error}", uncertain=True)


def _refused(error: BaseException) -> bool:
    """Tell whether a connection error happened before anything was sent."""
    text = str(error)
    return "Connection refused" in text or "NewConnectionError" in text


class WebhookSender:
    """POSTs the case as signed JSON, which any 2xx response acknowledges.

    The body is the same at every attempt, and the `X-ChatCun-Delivery`
    header carries an id that is unique per case and receiver, so a receiver
    can tell a repeated delivery from a new one.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        timeout_seconds: float,
        event: str,
        http: Optional[requests.Session] = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout_seconds = timeout_seconds
        self.event = event
        self.http = http or requests.Session()

    def body(self, message: ClaimedMessage) -> bytes:
        """Return the JSON body sent for a message."""
        document = {
            "event": self.event,
            "delivery_id": message.delivery_id,
            "case": message.payload,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()

    def send(self, message: ClaimedMessage) -> Outcome:
        """POST the message once."""
        body = self.body(message)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, body),
            DELIVERY_HEADER: message.delivery_id,
            ATTEMPT_HEADER: str(message.attempts + 1),
        }
        try:
            response = self.http.post(
                self.url,
                data=body,
                headers=headers,
                timeout=self.timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return _request_error(error, self.timeout_seconds)
        if 200 <= response.status_code < 300:
            return Outcome(True, detail=f"HTTP {response.status_code}")
        return Outcome(
            False, f"HTTP {response.status_code}: {response.text[:MAX_ERROR_BODY]}"
        )


class WhatsAppAlertSender:
    """Sends a short WhatsApp alert to the on-duty number through Twilio.

    The alert names the folio and the kind of case only: a phone's lock
    screen shows it. Twilio accepts no idempotency key, so before repeating
    an uncertain attempt the sender looks the folio up in the messages sent
    to the on-duty number since the case was created.
    """

    def __init__(
        self,
        alert: WhatsAppAlert,
        timeout_seconds: float,
        http: Optional[requests.Session] = None,
    ) -> None:
        self.alert = alert
        self.timeout_seconds = timeout_seconds
        self.http = http or requests.Session()
        self.messages_url = (
            f"{alert.api_base_url}/2010-04-01/Accounts/{alert.account_sid}/"
            "Messages.json"
        )

    @staticmethod
    def text(message: ClaimedMessage) -> str:
        """Return the alert's text."""
        request_type = message.payload.get("request_type") or "caso"
        kind = REQUEST_TYPE_NAMES.get(request_type, request_type)
        priority = message.payload.get("priority") or "urgente"
        return (
            f"🚨 ChatCun: caso {message.folio} ({kind}, prioridad {priority}). "
            "Revísalo en el canal de guardia: la persona espera que la contacten."
        )

    def send(self, message: ClaimedMessage) -> Outcome:
        """Send the alert once, unless Twilio's log shows it was sent."""
        if message.uncertain:
            found = self.find_sent(message)
            if found.acknowledged or found.error:
                return found

        form = {
            "To": self.alert.to,
            "From": self.alert.from_,
            "Body": self.text(message),
        }
        try:
            response = self.http.post(
                self.messages_url,
                data=form,
                auth=(self.alert.account_sid, self.alert.auth_token),
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as error:
            return _request_error(error, self.timeout_seconds)
        if 200 <= response.status_code < 300:
            return Outcome(True, detail=_json_field(response, "sid"))
        return Outcome(
            False,
            f"Twilio answered HTTP {response.status_code}: "
            f"{response.text[:MAX_ERROR_BODY]}",
        )

    def find_sent(self, message: ClaimedMessage) -> Outcome:
        """Look for an earlier alert of the same case in Twilio's log.

        Returns an acknowledged outcome when found, an outcome with an error
        when the log cannot be read (so nothing is sent blind), and an empty
        outcome when the alert was never sent.
        """
        since = (message.created_at - timedelta(days=1)).date().isoformat()
        params = {
            "To": self.alert.to,
            "From": self.alert.from_,
            "DateSent>": since,
            "PageSize": "100",
        }
        try:
            response = self.http.get(
                self.messages_url,
                params=params,
                auth=(self.alert.account_sid, self.alert.auth_token),
                timeout=self.timeout_seconds,
            )
            response.raise_for_status()
            sent = response.json().get("messages") or []
        except (requests.RequestException, ValueError) as error:
            return Outcome(
                False,
                f"could not read Twilio's message log to avoid a repeated alert: "
                f"{error}",
                uncertain=True,
            )
        for item in sent:
            if message.folio in (item.get("body") or ""):
                return Outcome(True, detail=f"already sent as {item.get('sid')}")
        return Outcome(False)


class EmailSender:
    """E-mails the case to a body through an SMTP server.

    The Message-ID is the same at every attempt, so a mail system that
    receives an uncertain attempt twice can drop the copy.
    """

    def __init__(self, smtp_url: str, email_from: str, timeout_seconds: float) -> None:
        parts = urlsplit(smtp_url)
        self.use_ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.email_from = email_from
        self.timeout_seconds = timeout_seconds

    def compose(self, message: ClaimedMessage) -> EmailMessage:
        """Build the e-mail of a case."""
        case = message.payload
        email = EmailMessage()
        topic = case.get("category") or case.get("request_type")
        email["Subject"] = (
            f"ChatCun {message.folio}: {topic} (prioridad {case.get('priority')})"
        )
        email["From"] = self.email_from
        email["To"] = message.target or ""
        receiver = message.receiver.replace(":", ".")
        email["Message-ID"] = f"<{message.folio}.{receiver}@chatcun>"
        email.set_content(case_text(case))
        return email

    def send(self, message: ClaimedMessage) -> Outcome:
        """Hand the e-mail to the SMTP server once."""
        if not message.target:
            return Outcome(False, "no e-mail address for this body in routing.yml")
        email = self.compose(message)
        try:
            smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            with smtp_class(self.host, self.port, timeout=self.timeout_seconds) as smtp:
                smtp.ehlo()
                if not self.use_ssl and smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except socket.timeout as error:
            return Outcome(False, f"SMTP timed out: {error}", uncertain=True)
        except (smtplib.SMTPException, OSError) as error:
            return Outcome(False, f"SMTP failed: {type(error).__name__}: {error}")
        return Outcome(True, detail=f"sent to {message.target}")


class MissingReceiver:
    """A receiver whose address is not configured: every attempt fails.

    The row stays pending, so it is delivered once the setting is fixed and
    the worker restarted, and every retry logs what is missing.
    """

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def send(self, message: ClaimedMessage) -> Outcome:
        return Outcome(False, self.problem)


def case_text(case: Dict[str, Any]) -> str:
    """Format a case snapshot as plain text for staff, in Spanish."""
    labels = (
        ("folio", "Folio"),
        ("request_type", "Tipo"),
        ("category", "Categoría"),
        ("priority", "Prioridad"),
        ("groups", "Grupos"),
        ("description", "Qué pasa"),
        ("address", "Dónde"),
        ("reference", "Referencia"),
        ("sender", "WhatsApp"),
        ("safe_contact", "Contacto seguro"),
        ("due_at", "Responder antes de"),
        ("attachments", "Archivos"),
    )
    lines = []
    for key, label in labels:
        value = case.get(key)
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        if value not in (None, ""):
            lines.append(f"{label}: {value}")
    if case.get("latitude") is not None:
        lines.append(f"Ubicación: {case['latitude']:.5f}, {case['longitude']:.5f}")
    return "\n".join(lines) + "\n"


def _json_field(response: requests.Response, name: str) -> Optional[str]:
    try:
        return response.json().get(name)
    except ValueError:
        return None
