"""Webhook requests built and signed the way Twilio builds and signs them.

The signature is computed here from Twilio's published algorithm, not with
the channel's code: HMAC-SHA1 keyed with the auth token over the full URL
followed by each POST parameter name and value, sorted by name, in Base64.
"""

import base64
import hashlib
import hmac
import secrets
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "test-auth-token-" + "7" * 16
TWILIO_NUMBER = "whatsapp:+529987784500"

Form = List[Tuple[str, str]]


def new_message_sid() -> str:
    """Return a fresh SID shaped like Twilio's (`SM` and 32 hex digits)."""
    return "SM" + secrets.token_hex(16)


def twilio_signature(url: str, form: Form, auth_token: str = AUTH_TOKEN) -> str:
    """Compute `X-Twilio-Signature` for a form POST to `url`."""
    payload = url
    for name, value in sorted(form):
        payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_request(
    url: str, form: Form, auth_token: str = AUTH_TOKEN
) -> Tuple[bytes, Dict[str, str]]:
    """Return the body and headers of a signed webhook request."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(url, form, auth_token),
        "User-Agent": "TwilioProxy/1.1",
    }
    return urlencode(form).encode(), headers


def inbound_form(
    sender: str,
    body: str = "",
    *,
    message_sid: Optional[str] = None,
    profile_name: str = "Ana López",
    wa_id: Optional[str] = None,
    media: Sequence[Tuple[str, str]] = (),
    location: Optional[Dict[str, str]] = None,
    to: str = TWILIO_NUMBER,
    account_sid: str = ACCOUNT_SID,
) -> Form:
    """Build the parameters Twilio posts for an incoming WhatsApp message.

    Args:
        sender: The citizen's number as WhatsApp reports it, `+5219981234567`.
        body: The text, empty for a photo without caption or a location.
        message_sid: The SID; a new one when omitted.
        profile_name: The citizen's WhatsApp profile name.
        wa_id: The WhatsApp ID; the sender's digits when omitted.
        media: `(url, content_type)` of each attachment.
        location: `Latitude`, `Longitude` and optionally `Address`, `Label`.
        to: The assistant's address.
        account_sid: The account the message belongs to.
    """
    sid = message_sid or new_message_sid()
    if location:
        message_type = "location"
    elif media:
        message_type = media[0][1].split("/")[0]
        if message_type == "application":
            message_type = "document"
    else:
        message_type = "text"

    form: Form = [
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))),
        ("ProfileName", profile_name),
        ("MessageType", message_type),
        ("SmsSid", sid),
        ("WaId", wa_id or sender.lstrip("+")),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", account_sid),
        ("From", f"whatsapp:{sender}"),
        ("ApiVersion", "2010-04-01"),
    ]
    for index, (url, content_type) in enumerate(media):
        form.append((f"MediaContentType{index}", content_type))
        form.append((f"MediaUrl{index}", url))
    for name, value in (location or {}).items():
        form.append((name, value))
    return form


def status_form(
    message_sid: str,
    status: str,
    recipient: str,
    error_code: Optional[str] = None,
    account_sid: str = ACCOUNT_SID,
) -> Form:
    """Build the parameters of a delivery status callback."""
    form: Form = [
        ("ChannelToAddress", recipient.lstrip("+")),
        ("ApiVersion", "2010-04-01"),
        ("MessageStatus", status),
        ("SmsSid", message_sid),
        ("SmsStatus", status),
        ("ChannelInstallSid", "XE" + "ab" * 16),
        ("To", f"whatsapp:{recipient}"),
        ("From", TWILIO_NUMBER),
        ("MessageSid", message_sid),
        ("AccountSid", account_sid),
        ("ChannelPrefix", "whatsapp"),
    ]
    if error_code:
        form.append(("ErrorCode", error_code))
    return form
