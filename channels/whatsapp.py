"""WhatsApp channel of ChatCun through Twilio.

Routes, under Rasa's `/webhooks/whatsapp` prefix:

- `POST /webhook`: incoming messages. The request is checked against
  `X-Twilio-Signature` and acknowledged at once with empty TwiML. The turn
  then runs in the background, and replies go out through Twilio's REST API.
- `POST /status`: delivery status callbacks; failed and undelivered
  messages are logged and counted.
- `GET /status`: those counts, as JSON.
- `GET /`: health check.

Enable it in credentials.yml as `channels.whatsapp.WhatsAppInput`; the
settings are described in `channels.settings.WhatsAppSettings`.
"""

import asyncio
import gc
import logging
import time
from collections import Counter
from typing import Any, Awaitable, Callable, Dict, Optional, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.buttons import ButtonMemory, resolve_reply
from channels.http_client import HttpSessionHolder
from channels.inbound import (
    CHANNEL_NAME,
    InboundMessage,
    InvalidWebhookRequest,
    build_metadata,
    parse_data_without_text,
    parse_inbound,
    truncate_for_nlu,
)
from channels.log_throttle import LogThrottle
from channels.media import MediaDownloader, rejection_replies
from channels.messages_api import TwilioMessagesClient
from channels.outbound import AddressBook, WhatsAppOutput
from channels.phone import mask_phone, normalize_phone
from channels.settings import InvalidSettingError, WhatsAppSettings
from channels.signature import FormParameters, SignatureChecker, parse_form
from channels.store import MessageDeduplicator, create_store
from channels.queues import KeyedQueues

__all__ = ["WhatsAppInput", "WhatsAppOutput", "normalize_phone"]

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FAILED_DELIVERY_STATUSES = ("failed", "undelivered")
STATUS_PATH = "/webhooks/whatsapp/status"

# Sent when a turn fails inside Rasa, so the citizen is not left waiting.
TURN_FAILED_REPLY = (
    "Perdón, tuve un problema para procesar tu mensaje. ¿Me lo puedes enviar "
    "de nuevo?"
)

# Seconds that a stopping server waits for turns already acknowledged.
SHUTDOWN_GRACE_SECONDS = 10.0


class WhatsAppInput(InputChannel):
    """Receives WhatsApp messages from Twilio and replies through its REST API."""

    @classmethod
    def name(cls) -> str:
        """Return the name that sets the webhook path and the input channel."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[str, Any]]
    ) -> "WhatsAppInput":
        """Create the channel from its credentials.yml block.

        Raises:
            RasaException: If the block is missing.
            InvalidSettingError: If a setting is missing or malformed.
        """
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(WhatsAppSettings.from_credentials(credentials))

    def __init__(self, settings: WhatsAppSettings) -> None:
        if not isinstance(settings, WhatsAppSettings):
            raise InvalidSettingError(
                "WhatsAppInput takes WhatsAppSettings; use from_credentials() "
                "with the credentials.yml block."
            )
        self.settings = settings
        self.delivery_failures: Counter = Counter()

        store = create_store(settings.redis_url)
        self._store = store
        self._deduplicator = MessageDeduplicator(store)
        self._buttons = ButtonMemory(store)
        self._addresses = AddressBook(store)
        self._sessions = HttpSessionHolder()
        self._turns = KeyedQueues()
        self._outbox = KeyedQueues()
        self._turn_slots = asyncio.Semaphore(settings.max_concurrent_turns)
        self._signatures = SignatureChecker(
            settings.auth_token, settings.public_base_url
        )
        self._bad_signature_log = LogThrottle(logger, logging.WARNING)

        status_callback = (
            settings.public_base_url + STATUS_PATH
            if settings.public_base_url
            else None
        )
        self.messages_client = TwilioMessagesClient(
            self._sessions,
            settings.account_sid,
            settings.auth_token,
            settings.api_base_url,
            status_callback_url=status_callback,
        )
        self._downloader = MediaDownloader(
            self._sessions,
            settings.account_sid,
            settings.auth_token,
            settings.api_base_url,
            settings.media_dir,
        )

    def get_output_channel(self) -> WhatsAppOutput:
        """Return an output channel for messages Rasa sends on its own.

        Used by the HTTP API (`output_channel=whatsapp`). Messages go to the
        address the citizen last wrote from, or `whatsapp:<sender id>`.
        """
        return WhatsAppOutput(
            self.messages_client,
            self.settings.twilio_number,
            self._buttons,
            address_book=self._addresses,
            outbox=self._outbox,
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Create the routes of the channel."""
        blueprint = Blueprint("whatsapp_webhook", __name__)

        @blueprint.listener("before_server_start")
        async def announce(*_: Any) -> None:
            self._log_configuration()

        @blueprint.listener("after_server_start")
        async def freeze_loaded_objects(*_: Any) -> None:
            self._freeze_loaded_objects()

        @blueprint.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self._shut_down()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @blueprint.route("/status", methods=["POST"])
        async def status_callback(request: Request) -> HTTPResponse:
            return self._record_status(request)

        @blueprint.route("/status", methods=["GET"])
        async def status_counts(_: Request) -> HTTPResponse:
            return response.json(dict(self.delivery_failures))

        return blueprint

    async def wait_idle(self, timeout_seconds: float) -> bool:
        """Wait until the acknowledged turns have run and their replies went out.

        Returns:
            True if everything finished within the timeout.
        """
        deadline = time.monotonic() + timeout_seconds
        for queues in (self._turns, self._outbox):
            remaining = max(0.0, deadline - time.monotonic())
            if not await queues.wait_idle(remaining):
                return False
        return True

    def _log_configuration(self) -> None:
        logger.info("WhatsApp channel starting: %r", self.settings)
        if not self.settings.validate_signature:
            logger.warning(
                "Twilio signature validation is OFF (validate_signature: false): "
                "anyone who can reach the webhook can post messages. Use this only "
                "for local development."
            )
        if not self.settings.redis_url:
            logger.info(
                "No redis_url: message deduplication, pending buttons and reply "
                "addresses are kept in this process's memory, which is right for "
                "one process only."
            )

    @staticmethod
    def _freeze_loaded_objects() -> None:
        # Rasa has loaded the model by now. Python's full garbage collections
        # scan every tracked object (about 840,000 with this project's model),
        # and under load they blocked the event loop, and so the webhook, for
        # 0.4 to 1.9 s at a time (measured with bench/twilio_load.py). Frozen
        # objects are skipped from then on.
        # NOTE: a model replaced at run time through the HTTP API stays in
        # memory if it holds reference cycles; restart the server instead.
        gc.freeze()
        logger.info(
            "Excluded %d objects loaded at start from garbage collection",
            gc.get_freeze_count(),
        )

    async def _shut_down(self) -> None:
        for queues, what in ((self._turns, "turns"), (self._outbox, "replies")):
            if not await queues.wait_idle(SHUTDOWN_GRACE_SECONDS):
                logger.warning(
                    "Stopping with %s of %d citizen(s) unfinished",
                    what,
                    queues.pending_keys,
                )
                await queues.cancel_all()
        await self._sessions.close()
        await self._store.close()
        gc.unfreeze()

    def _authentic_form(
        self, request: Request
    ) -> Union[FormParameters, HTTPResponse]:
        # Returns the parameters, or the error response to send instead.
        try:
            form = parse_form(request.body)
        except UnicodeDecodeError:
            logger.warning(
                "Rejected %s from %s: body is not UTF-8", request.path, request.ip
            )
            return response.text("Request body is not UTF-8.", status=400)

        if self.settings.validate_signature and not self._signatures.is_valid(
            request, form
        ):
            self._bad_signature_log.log(
                "Rejected %s %s from %s: invalid or missing X-Twilio-Signature "
                "(URL checked: %s)",
                request.method,
                request.path,
                request.ip,
                self._signatures.url_for(request),
            )
            return response.text("Invalid Twilio signature.", status=403)
        return form

    async def _receive(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        form = self._authentic_form(request)
        if isinstance(form, HTTPResponse):
            return form

        try:
            message = parse_inbound(form)
        except InvalidWebhookRequest as error:
            logger.warning("Rejected a webhook request: %s", error)
            return response.text(f"Invalid request: {error}.", status=400)

        if not await self._deduplicator.first_time(message.message_sid):
            logger.info("Ignoring repeated delivery of %s", message.message_sid)
            return _twiml()

        logger.info(
            "Received %s from %s: %d media, location %s",
            message.message_sid,
            mask_phone(message.sender_id),
            len(message.media_references),
            "yes" if message.location else "no",
        )
        self._turns.submit(
            message.sender_id, lambda: self._run_turn(message, on_new_message)
        )
        return _twiml()

    async def _run_turn(
        self,
        message: InboundMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        output = WhatsAppOutput(
            self.messages_client,
            self.settings.twilio_number,
            self._buttons,
            reply_address=message.reply_address,
            sender_id=message.sender_id,
            turn_sid=message.message_sid,
            outbox=self._outbox,
        )
        try:
            await self._addresses.remember(message.sender_id, message.reply_address)
            user_message = await self._prepare(message, output)
            async with self._turn_slots:
                await on_new_message(user_message)
        except Exception:
            logger.exception("Turn %s failed", message.message_sid)
            await output.send_text_message(message.sender_id, TURN_FAILED_REPLY)

    async def _prepare(
        self, message: InboundMessage, output: WhatsAppOutput
    ) -> UserMessage:
        media = []
        if message.media_references:
            media = await self._downloader.fetch_all(
                message.message_sid, message.media_references
            )
        for reply in rejection_replies(media):
            await output.send_text_message(message.sender_id, reply)

        text = message.text
        choices = await self._buttons.take(message.sender_id)
        payload = resolve_reply(text, choices)
        if payload is not None:
            logger.debug(
                "Message %s chose button payload %s", message.message_sid, payload
            )
            text = payload

        nlu_text, truncated = truncate_for_nlu(text)
        metadata = build_metadata(message, media, full_text=text if truncated else None)
        return UserMessage(
            nlu_text,
            output,
            message.sender_id,
            parse_data=None if nlu_text else parse_data_without_text(),
            input_channel=CHANNEL_NAME,
            message_id=message.message_sid,
            metadata=metadata,
        )

    def _record_status(self, request: Request) -> HTTPResponse:
        form = self._authentic_form(request)
        if isinstance(form, HTTPResponse):
            return form

        status = form.first("MessageStatus") or form.first("SmsStatus") or ""
        message_sid = form.first("MessageSid") or form.first("SmsSid") or "-"
        if status in FAILED_DELIVERY_STATUSES:
            self.delivery_failures[status] += 1
            logger.warning(
                "Message %s was %s: ErrorCode %s",
                message_sid,
                status,
                form.first("ErrorCode") or "-",
            )
        else:
            logger.debug("Message %s is %s", message_sid, status or "of unknown status")
        return response.empty()


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml")
