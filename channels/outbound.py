"""Sends Rasa's responses to WhatsApp through Twilio without blocking.

Text longer than Twilio's 1,600-character limit becomes several messages,
buttons become one message of numbered options, and images go as media.
Messages are queued per recipient and sent in order in the background, so
a turn ends as soon as Rasa has produced its responses.
"""

import functools
import json
import logging
from typing import Any, Dict, Iterable, List, Optional

from rasa.core.channels.channel import OutputChannel

from channels.buttons import ButtonMemory, button_choices, format_buttons
from channels.messages_api import TwilioMessagesClient
from channels.phone import WHATSAPP_PREFIX, normalize_phone
from channels.splitting import split_message
from channels.store import KEY_PREFIX
from channels.queues import KeyedQueues

logger = logging.getLogger(__name__)

ADDRESS_TTL_SECONDS = 90 * 24 * 3600


class AddressBook:
    """The exact WhatsApp address each citizen last wrote from.

    WhatsApp writes Mexican mobile numbers with the old "1"
    (`whatsapp:+5219981234567`) while the sender id lacks it, so messages
    that Rasa sends on its own go to the address the citizen used.
    """

    def __init__(self, store: Any, ttl_seconds: int = ADDRESS_TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl_seconds

    async def remember(self, sender_id: str, address: str) -> None:
        """Record the address of the citizen's latest message."""
        await self._store.put(self._key(sender_id), address, self._ttl)

    async def lookup(self, sender_id: str) -> Optional[str]:
        """Return the citizen's last address, or None if never seen."""
        return await self._store.get(self._key(sender_id))

    @staticmethod
    def _key(sender_id: str) -> str:
        return f"{KEY_PREFIX}address:{sender_id}"


class WhatsAppOutput(OutputChannel):
    """Sends Rasa's responses to one WhatsApp conversation through Twilio.

    Args:
        client: The Messages API client.
        twilio_number: The sender address, `whatsapp:+529987784500`.
        button_memory: Where the numbered options sent to each citizen go.
        reply_address: The exact `From` address of the incoming message, used
            when replying to `sender_id`.
        address_book: Addresses for other recipients; a recipient never
            seen gets `whatsapp:<recipient id>`.
        sender_id: Normalized number of the citizen of this turn.
        turn_sid: SID of the incoming message that started the turn, for logs.
        outbox: Queues per recipient that send in order in the background;
            None sends each message before the call returns.
    """

    def __init__(
        self,
        client: TwilioMessagesClient,
        twilio_number: str,
        button_memory: ButtonMemory,
        reply_address: Optional[str] = None,
        address_book: Optional[AddressBook] = None,
        sender_id: Optional[str] = None,
        turn_sid: Optional[str] = None,
        outbox: Optional[KeyedQueues] = None,
    ) -> None:
        self._client = client
        self._from = twilio_number
        self._buttons = button_memory
        self._reply_address = reply_address
        self._address_book = address_book
        self._sender_id = sender_id
        self._turn_sid = turn_sid
        self._outbox = outbox

    @classmethod
    def name(cls) -> str:
        """Return the channel name Rasa records on bot events."""
        return "whatsapp"

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        """Send text, split into several messages when it is too long."""
        for chunk in split_message(text or ""):
            await self._send(recipient_id, body=chunk)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Send the text and its buttons as one message of numbered options."""
        choices = button_choices(buttons)
        await self.send_text_message(recipient_id, format_buttons(text, choices))
        if choices:
            await self._buttons.remember(self._memory_key(recipient_id), choices)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        """Send an image as a media message."""
        await self._send(recipient_id, media_urls=[image])

    async def send_attachment(
        self, recipient_id: str, attachment: Any, **kwargs: Any
    ) -> None:
        """Send a file URL as media, anything else as text."""
        is_url = isinstance(attachment, str) and attachment.startswith(
            ("https://", "http://")
        )
        if is_url:
            await self._send(recipient_id, media_urls=[attachment])
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom payload of Messages API fields.

        Reads `text` or `body`, `media_url` (a URL or a list of them), and
        `content_sid` with optional `content_variables` for an approved
        WhatsApp template. Other keys are ignored with a warning, because
        showing raw JSON to a citizen helps no one.
        """
        body = json_message.get("text") or json_message.get("body")
        media = json_message.get("media_url") or []
        media_urls = [media] if isinstance(media, str) else list(media)
        extra: Dict[str, str] = {}
        if json_message.get("content_sid"):
            extra["ContentSid"] = str(json_message["content_sid"])
            variables = json_message.get("content_variables")
            if variables is not None:
                extra["ContentVariables"] = (
                    variables if isinstance(variables, str) else json.dumps(variables)
                )

        known = {"text", "body", "media_url", "content_sid", "content_variables"}
        unknown = sorted(set(json_message) - known)
        if unknown:
            logger.warning("Ignoring unsupported custom payload keys %s", unknown)
        if not (body or media_urls or extra):
            return

        if extra or media_urls:
            await self._send(
                recipient_id, body=body, media_urls=media_urls, extra=extra
            )
        else:
            await self.send_text_message(recipient_id, body)

    async def _address(self, recipient_id: str) -> str:
        if recipient_id.startswith(WHATSAPP_PREFIX):
            return recipient_id
        if self._reply_address and recipient_id == self._sender_id:
            return self._reply_address
        if self._address_book is not None:
            known = await self._address_book.lookup(recipient_id)
            if known:
                return known
        return f"{WHATSAPP_PREFIX}{recipient_id}"

    def _memory_key(self, recipient_id: str) -> str:
        try:
            return normalize_phone(recipient_id)
        except ValueError:
            return recipient_id

    async def _send(
        self,
        recipient_id: str,
        body: Optional[str] = None,
        media_urls: Iterable[str] = (),
        extra: Optional[Dict[str, str]] = None,
    ) -> None:
        address = await self._address(recipient_id)
        send = functools.partial(
            self._client.send,
            to=address,
            from_=self._from,
            body=body,
            media_urls=list(media_urls),
            extra=extra,
            turn_sid=self._turn_sid,
        )
        if self._outbox is None:
            await send()
        else:
            self._outbox.submit(address, send)
