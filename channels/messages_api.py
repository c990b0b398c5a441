"""Twilio's Messages API on a non-blocking aiohttp session, with retries.

Each message is `POST /2010-04-01/Accounts/{sid}/Messages.json`. HTTP 429,
5xx, connection errors and timeouts are retried with exponential backoff;
other errors are logged with Twilio's error code and not retried.
"""

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp

from channels.http_client import HttpSessionHolder
from channels.phone import mask_phone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwilioError:
    """A Messages API response that was not a success."""

    http_status: Optional[int]
    code: Optional[int]
    more_info: Optional[str]


class TwilioMessagesClient:
    """Creates messages through Twilio's REST API with retries.

    Args:
        sessions: Holder of the shared aiohttp session.
        account_sid: Twilio account SID, also the basic-auth user.
        auth_token: Twilio auth token, the basic-auth password.
        api_base_url: Scheme and host of the API, `https://api.twilio.com` in
            production.
        status_callback_url: URL that Twilio calls with delivery updates, or
            None to use the sender's configured callback.
        max_attempts: Attempts per message, the first included.
        backoff_seconds: Wait before the first retry; doubles each retry.
        timeout_seconds: Time limit of one attempt.
    """

    def __init__(
        self,
        sessions: HttpSessionHolder,
        account_sid: str,
        auth_token: str,
        api_base_url: str,
        status_callback_url: Optional[str] = None,
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        base = api_base_url.rstrip("/")
        self._url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._status_callback_url = status_callback_url
        self._max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(
        self,
        to: str,
        from_: str,
        body: Optional[str] = None,
        media_urls: Sequence[str] = (),
        extra: Optional[Dict[str, str]] = None,
        turn_sid: Optional[str] = None,
    ) -> Optional[str]:
        """Create one message, retrying transient failures.

        Args:
            to: Recipient address, `whatsapp:+...`.
            from_: Sender address, `whatsapp:+...`.
            body: Text of the message, if any.
            media_urls: Public URLs of files to attach.
            extra: Further Messages API parameters, such as `ContentSid`.
            turn_sid: SID of the incoming message that started the turn, for
                logs.

        Returns:
            The SID of the created message, or None if sending failed; the
            failure has been logged.
        """
        form = self._form(to, from_, body, media_urls, extra)
        reference = turn_sid or "-"
        recipient = mask_phone(to)

        for attempt in range(1, self._max_attempts + 1):
            sid, error, retry_after = await self._attempt(form)
            if sid is not None:
                logger.debug("Sent %s to %s for %s", sid, recipient, reference)
                return sid
            if retry_after is None or attempt == self._max_attempts:
                break
            delay = self._delay(attempt, retry_after)
            logger.warning(
                "Twilio send for %s to %s failed (HTTP %s, error code %s); "
                "retry %d of %d in %.1f s",
                reference,
                recipient,
                error.http_status if error else None,
                error.code if error else None,
                attempt,
                self._max_attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)

        logger.error(
            "Twilio send for %s to %s failed after %d attempt(s): HTTP %s, "
            "error code %s %s",
            reference,
            recipient,
            attempt,
            error.http_status if error else None,
            error.code if error else None,
            (error.more_info or "") if error else "",
        )
        return None

    def _form(
        self,
        to: str,
        from_: str,
        body: Optional[str],
        media_urls: Sequence[str],
        extra: Optional[Dict[str, str]],
    ) -> List[Tuple[str, str]]:
        form = [("To", to), ("From", from_)]
        if body:
            form.append(("Body", body))
        form.extend(("MediaUrl", url) for url in media_urls)
        if self._status_callback_url:
            form.append(("StatusCallback", self._status_callback_url))
        form.extend((extra or {}).items())
        return form

    async def _attempt(
        self, form: List[Tuple[str, str]]
    ) -> Tuple[Optional[str], Optional[TwilioError], Optional[float]]:
        # Returns (sid, error, retry_after): retry_after is None when the
        # failure is permanent, else the wait Twilio asked for (0 = none).
        session = self._sessions.get()
        try:
            async with session.post(
                self._url, data=form, auth=self._auth, timeout=self._timeout
            ) as response:
                payload = await _json_or_empty(response)
                if 200 <= response.status < 300 and payload.get("sid"):
                    return str(payload["sid"]), None, None
                error = TwilioError(
                    response.status, payload.get("code"), payload.get("more_info")
                )
                if response.status == 429 or response.status >= 500:
                    return None, error, _retry_after_seconds(response)
                return None, error, None
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            # NOTE: if Twilio accepted the message before the connection broke,
            # the retry sends it twice; the Messages API has no idempotency key.
            logger.debug("Twilio connection error: %r", exc)
            return None, TwilioError(None, None, exc.__class__.__name__), 0.0

    def _delay(self, attempt: int, retry_after: float) -> float:
        backoff = self.backoff_seconds * 2 ** (attempt - 1)
        jitter = random.uniform(0, backoff / 4)
        return min(max(backoff + jitter, retry_after), 30.0)


async def _json_or_empty(response: aiohttp.ClientResponse) -> Dict[str, Any]:
    try:
        payload = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientPayloadError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _retry_after_seconds(response: aiohttp.ClientResponse) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0
