"""A local stand-in for Twilio's REST API, for tests and the load bench.

It accepts `POST /2010-04-01/Accounts/{sid}/Messages.json` the way Twilio
does (basic auth, form fields, 1,600-character Body limit), records each
message instead of sending it, and returns a message resource. It also
serves media files behind basic auth, as Twilio serves what citizens send,
and can fail the next requests on request, to exercise retries.

`FakeTwilio` runs in the caller's event loop; `ThreadedFakeTwilio` runs it
in a thread for synchronous tests.
"""

import asyncio
import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
MAX_BODY_CHARS = 1600


@dataclass
class SentMessage:
    """A message that the fake accepted."""

    sid: str
    to: str
    from_: str
    body: Optional[str]
    media_urls: List[str]
    status_callback: Optional[str]
    extra: Dict[str, str]
    received_at: float


@dataclass
class MediaFile:
    """A file served under /media/<name>."""

    content: bytes
    content_type: str
    chunked: bool = False


@dataclass
class _Failure:
    status: int
    code: int
    retry_after: Optional[str] = None


@dataclass
class FakeTwilioState:
    """What the fake recorded, readable from any thread."""

    messages: List[SentMessage] = field(default_factory=list)
    attempts: int = 0
    media_requests: int = 0


class FakeTwilio:
    """The fake API server in the current event loop.

    Args:
        account_sid: The account SID that requests must use.
        auth_token: The auth token that requests must use.
        reply_delay_seconds: Time the fake waits before it responds to a
            message request, as Twilio takes a few hundred milliseconds.
    """

    def __init__(
        self, account_sid: str, auth_token: str, reply_delay_seconds: float = 0.0
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.reply_delay_seconds = reply_delay_seconds
        self.state = FakeTwilioState()
        self.base_url = ""
        self._media: Dict[str, MediaFile] = {}
        self._failures: List[_Failure] = []
        self._lock = threading.Lock()
        self._runner: Optional[web.AppRunner] = None
        self._changed: Optional[asyncio.Condition] = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the base URL (`http://127.0.0.1:<port>`)."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(MESSAGES_PATH, self._create_message)
        app.router.add_get("/media/{name}", self._serve_media)
        app.router.add_get("/cdn/{name}", self._serve_cdn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore
        self.base_url = f"http://{host}:{bound_port}"
        self._changed = asyncio.Condition()
        return self.base_url

    async def stop(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add_media(
        self, name: str, content: bytes, content_type: str, chunked: bool = False
    ) -> str:
        """Serve a file; returns its URL, which redirects like Twilio's."""
        with self._lock:
            self._media[name] = MediaFile(content, content_type, chunked)
        return f"{self.base_url}/media/{name}"

    def fail_next(
        self, status: int, code: int, count: int = 1, retry_after: Optional[str] = None
    ) -> None:
        """Respond to the next `count` message requests with an error."""
        with self._lock:
            self._failures.extend(
                _Failure(status, code, retry_after) for _ in range(count)
            )

    def messages_to(self, to: str) -> List[SentMessage]:
        """Return the messages accepted for one recipient, in order."""
        with self._lock:
            return [message for message in self.state.messages if message.to == to]

    async def wait_for_messages(
        self, to: str, count: int, timeout_seconds: float
    ) -> List[SentMessage]:
        """Wait until `count` messages to `to` were accepted, or the timeout.

        Returns whatever was accepted by then, so callers can assert on it.
        """
        assert self._changed is not None, "start() the fake first"
        deadline = time.monotonic() + timeout_seconds
        async with self._changed:
            while len(self.messages_to(to)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    break
        return self.messages_to(to)

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(
            f"{self.account_sid}:{self.auth_token}".encode()
        ).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _create_message(self, request: web.Request) -> web.Response:
        with self._lock:
            self.state.attempts += 1
            failure = self._failures.pop(0) if self._failures else None
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if failure is not None:
            headers = {}
            if failure.retry_after:
                headers["Retry-After"] = failure.retry_after
            return _error(failure.status, failure.code, "Scripted failure", headers)

        form = await request.post()
        body = form.get("Body")
        media_urls = [str(url) for url in form.getall("MediaUrl", [])]
        error = _validate(form, body, media_urls)
        if error is not None:
            return error

        if self.reply_delay_seconds:
            await asyncio.sleep(self.reply_delay_seconds)
        message = self._record(form, body, media_urls)
        return web.json_response(_resource(message, self.account_sid), status=201)

    def _record(self, form: Any, body: Any, media_urls: List[str]) -> SentMessage:
        known = {"To", "From", "Body", "MediaUrl", "StatusCallback"}
        message = SentMessage(
            sid="SM" + secrets.token_hex(16),
            to=str(form["To"]),
            from_=str(form["From"]),
            body=str(body) if body is not None else None,
            media_urls=media_urls,
            status_callback=form.get("StatusCallback"),
            extra={k: str(v) for k, v in form.items() if k not in known},
            received_at=time.monotonic(),
        )
        with self._lock:
            self.state.messages.append(message)
        asyncio.get_running_loop().create_task(self._notify())
        return message

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    async def _serve_media(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.state.media_requests += 1
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        name = request.match_info["name"]
        if name not in self._media:
            return _error(404, 20404, "The requested resource was not found")
        # Twilio responds to media URLs with a redirect to its content store.
        raise web.HTTPTemporaryRedirect(f"/cdn/{name}")

    async def _serve_cdn(self, request: web.Request) -> web.StreamResponse:
        media = self._media.get(request.match_info["name"])
        if media is None:
            return _error(404, 20404, "The requested resource was not found")
        if not media.chunked:
            return web.Response(body=media.content, content_type=media.content_type)

        # Without Content-Length the client can only count while reading.
        stream = web.StreamResponse(headers={"Content-Type": media.content_type})
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        for start in range(0, len(media.content), 64 * 1024):
            await stream.write(media.content[start : start + 64 * 1024])
        await stream.write_eof()
        return stream


def _validate(form: Any, body: Any, media_urls: List[str]) -> Optional[web.Response]:
    if not form.get("To") or not form.get("From"):
        return _error(400, 21604, "A 'To' and a 'From' phone number are required.")
    if not str(form["To"]).startswith("whatsapp:+"):
        return _error(400, 21211, "Invalid 'To' Phone Number")
    if not body and not media_urls and not form.get("ContentSid"):
        return _error(400, 21619, "A text message body or media URL is required.")
    if body is not None and len(str(body)) > MAX_BODY_CHARS:
        return _error(400, 21617, "The concatenated message body exceeds the limit")
    return None


def _error(
    status: int, code: int, message: str, headers: Optional[Dict[str, str]] = None
) -> web.Response:
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(payload, status=status, headers=headers)


def _resource(message: SentMessage, account_sid: str) -> Dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": "queued",
        "num_media": str(len(message.media_urls)),
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": None,
        "date_updated": None,
        "date_sent": None,
        "error_code": None,
        "error_message": None,
        "price": None,
        "price_unit": "USD",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message.sid}.json",
        "subresource_uris": {},
    }


class ThreadedFakeTwilio:
    """`FakeTwilio` running in its own thread and event loop."""

    def __init__(
        self, account_sid: str, auth_token: str, reply_delay_seconds: float = 0.0
    ) -> None:
        self.fake = FakeTwilio(account_sid, auth_token, reply_delay_seconds)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-twilio", daemon=True
        )

    @property
    def base_url(self) -> str:
        """Base URL of the running fake."""
        return self.fake.base_url

    def start(self) -> str:
        """Start the thread and the server; returns the base URL."""
        self._thread.start()
        return self._call(self.fake.start())

    def stop(self) -> None:
        """Stop the server and the thread."""
        self._call(self.fake.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def wait_for_messages(
        self, to: str, count: int, timeout_seconds: float = 60.0
    ) -> List[SentMessage]:
        """Block until `count` messages to `to` arrived, or the timeout."""
        return self._call(
            self.fake.wait_for_messages(to, count, timeout_seconds),
            timeout_seconds + 5,
        )

    def wait_for_quiet(
        self, to: str, quiet_seconds: float = 2.0, timeout_seconds: float = 60.0
    ) -> List[SentMessage]:
        """Wait for a first message to `to`, then until none came for a while."""
        messages = self.wait_for_messages(to, 1, timeout_seconds)
        deadline = time.monotonic() + timeout_seconds
        while messages and time.monotonic() < deadline:
            time.sleep(quiet_seconds)
            latest = self.fake.messages_to(to)
            if len(latest) == len(messages):
                break
            messages = latest
        return messages

    def _call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

