"""Fixtures for the WhatsApp channel tests.

Three levels:

- unit tests call the channel's functions directly;
- `channel_harness` serves the channel's blueprint from a real Sanic server
  in the test's event loop, with a scripted bot in place of Rasa's agent and
  the fake Twilio API behind it;
- `e2e` (tests marked `e2e`) starts the project's action server and
  `rasa run --enable-api` with the newest trained model in models/, the
  channel configured in its credentials file, and the fake Twilio API.
"""

import asyncio
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio
import requests

CHANNEL_TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = CHANNEL_TESTS_DIR.parents[1]
# The channel package and the helpers beside this file are imported by name,
# whatever pytest's import mode and working directory.
for _path in (str(PROJECT_ROOT), str(CHANNEL_TESTS_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fake_twilio import FakeTwilio, ThreadedFakeTwilio  # noqa: E402
from rasa_stack import RasaStack, free_port, newest_model  # noqa: E402
from twilio_requests import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    TWILIO_NUMBER,
    Form,
    signed_request,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: needs a trained model in models/; starts Rasa and the action server",
    )


BotReply = Callable[[Any], Awaitable[List[Dict[str, Any]]]]


@dataclass
class ScriptedAgent:
    """Stands in for Rasa's agent: records each message, sends set replies.

    `reply` receives the `UserMessage` and returns Rasa-style response dicts
    (`{"text": ...}`, `{"text": ..., "buttons": [...]}`, `{"image": ...}`).
    """

    reply: Optional[BotReply] = None
    received: List[Any] = field(default_factory=list)
    finished: List[str] = field(default_factory=list)

    async def handle_message(self, message: Any) -> None:
        self.received.append(message)
        responses = await self.reply(message) if self.reply else []
        for response in responses:
            await message.output_channel.send_response(
                message.sender_id, dict(response)
            )
        self.finished.append(message.message_id)


@dataclass
class ChannelHarness:
    """A running channel with its fake Twilio API and scripted agent."""

    base_url: str
    fake: FakeTwilio
    agent: ScriptedAgent
    channel: Any
    http: aiohttp.ClientSession

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/whatsapp/webhook"

    @property
    def status_url(self) -> str:
        return f"{self.base_url}/webhooks/whatsapp/status"

    async def post(
        self,
        url: str,
        form: Form,
        auth_token: str = AUTH_TOKEN,
        headers: Optional[Dict[str, str]] = None,
    ) -> aiohttp.ClientResponse:
        """POST a form signed for `url`; returns the read response."""
        body, signed_headers = signed_request(url, form, auth_token)
        signed_headers.update(headers or {})
        async with self.http.post(url, data=body, headers=signed_headers) as resp:
            await resp.read()
            return resp

    async def wait_for_turns(self, count: int, timeout_seconds: float = 10) -> None:
        """Wait until the agent finished `count` turns and their replies went out."""
        deadline = asyncio.get_running_loop().time() + timeout_seconds
        while len(self.agent.finished) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(self.agent.finished)} of {count} turns finished"
                )
            await asyncio.sleep(0.02)
        assert await self.channel.wait_idle(timeout_seconds), "replies still queued"


@pytest_asyncio.fixture
async def make_harness(tmp_path: Path):
    """Return a coroutine that serves the channel on 127.0.0.1.

    Keyword arguments override the channel's credentials.yml settings. Every
    harness made is stopped when the test ends.
    """
    from rasa.core.channels.channel import register
    from sanic import Sanic

    from channels.whatsapp import WhatsAppInput

    # Sanic rewrites some of its methods when an app starts; test mode lets
    # it do that again for the next app in the same process.
    Sanic.test_mode = True
    cleanups: List[Callable[[], Awaitable[None]]] = []

    async def make(**overrides: Any) -> ChannelHarness:
        fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
        await fake.start()
        cleanups.append(fake.stop)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        credentials = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "twilio_number": TWILIO_NUMBER,
            "validate_signature": "true",
            "public_base_url": base_url,
            "api_base_url": fake.base_url,
            "media_dir": str(tmp_path / "media"),
            "redis_url": "",
        }
        credentials.update(overrides)
        channel = WhatsAppInput.from_credentials(credentials)
        channel.messages_client.backoff_seconds = 0.01  # keeps retry tests fast

        agent = ScriptedAgent()
        app = Sanic(f"whatsapp_test_{uuid.uuid4().hex}")
        app.ctx.agent = agent
        register([channel], app, route="/webhooks/")

        listener = socket.socket()
        listener.bind(("127.0.0.1", port))
        server = await app.create_server(
            sock=listener, access_log=False, return_asyncio_server=True
        )
        await server.startup()
        await server.before_start()
        await server.after_start()

        http = aiohttp.ClientSession()

        async def stop() -> None:
            await http.close()
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()

        cleanups.append(stop)
        return ChannelHarness(base_url, fake, agent, channel, http)

    yield make

    for cleanup in reversed(cleanups):
        await cleanup()


@pytest_asyncio.fixture
async def channel_harness(make_harness):
    """The channel with default test settings."""
    return await make_harness()


@dataclass
class EndToEnd:
    """A running Rasa server with the WhatsApp channel, and the fake API."""

    stack: RasaStack
    twilio: ThreadedFakeTwilio

    @property
    def webhook_url(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/whatsapp/webhook"

    @property
    def status_url(self) -> str:
        return f"{self.stack.rasa_url}/webhooks/whatsapp/status"

    def post(
        self, url: str, form: Form, auth_token: str = AUTH_TOKEN
    ) -> requests.Response:
        """POST a form signed for `url` as Twilio would."""
        body, headers = signed_request(url, form, auth_token)
        return requests.post(url, data=body, headers=headers, timeout=15)

    def _conversation_url(self, sender_id: str) -> str:
        # Sanic does not decode %2B in a path, so the "+" stays as it is.
        return f"{self.stack.rasa_url}/conversations/{quote(sender_id, safe='+')}"

    def tracker(self, sender_id: str) -> Dict[str, Any]:
        """Return the conversation's tracker from Rasa's HTTP API."""
        url = f"{self._conversation_url(sender_id)}/tracker"
        response = requests.get(url, timeout=15)
        response.raise_for_status()
        return response.json()

    def user_events(self, sender_id: str) -> List[Dict[str, Any]]:
        """Return the conversation's `user` events."""
        events = self.tracker(sender_id).get("events") or []
        return [event for event in events if event.get("event") == "user"]

    def wait_for_user_event(
        self, sender_id: str, message_id: str, timeout_seconds: float = 60
    ) -> Dict[str, Any]:
        """Wait until Rasa logged the user message with `message_id`."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            for event in self.user_events(sender_id):
                if event.get("message_id") == message_id:
                    return event
            time.sleep(0.25)
        raise AssertionError(f"Rasa logged no user message {message_id}")

    def execute(self, sender_id: str, action: str) -> requests.Response:
        """Run an action in the conversation, replying through WhatsApp."""
        url = f"{self._conversation_url(sender_id)}/execute?output_channel=whatsapp"
        return requests.post(url, json={"name": action}, timeout=60)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory):
    """Start the fake Twilio API, the action server and Rasa with the channel.

    Uses the newest model in models/, or the archive named by the
    `CHATCUN_E2E_MODEL` environment variable.
    """
    override = os.environ.get("CHATCUN_E2E_MODEL")
    model = Path(override) if override else newest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip(
            "no trained model in models/ (train one with `make train`); the "
            "end-to-end channel tests need it"
        )
    work_dir = tmp_path_factory.mktemp("whatsapp_e2e")
    twilio = ThreadedFakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    twilio.start()
    stack = RasaStack(project_root=PROJECT_ROOT, model=model, work_dir=work_dir)
    stack.credentials = {
        "channels.whatsapp.WhatsAppInput": {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "twilio_number": TWILIO_NUMBER,
            "validate_signature": True,
            "public_base_url": stack.rasa_url,
            "api_base_url": twilio.base_url,
            "media_dir": str(work_dir / "media"),
            "redis_url": "",
        }
    }
    try:
        stack.start()
        yield EndToEnd(stack, twilio)
    finally:
        stack.stop()
        twilio.stop()
