"""Receivers on 127.0.0.1 for the delivery worker's tests.

- `OnCallReceiver`: an HTTP endpoint that responds to each request as
  scripted (fail, hang past the client's timeout, or accept), checks the
  signature and keeps every request it got. Like a real receiver, it
  processes a delivery id once and acknowledges repeats without processing
  them again.
- `FakeTwilio`: the two calls of Twilio's Messages API the WhatsApp alert
  uses: sending (POST) and listing sent messages (GET).
- `SmtpReceiver`: a small SMTP server that keeps the messages it accepts.

Each runs in a thread and is stopped by `close()`.
"""

import base64
import itertools
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

from actions.escalation.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify

ACCEPT, FAIL, HANG = "accept", "fail", "hang"


@dataclass
class ReceivedRequest:
    """One request as the on-call receiver got it."""

    delivery_id: str
    body: bytes
    signature_valid: bool
    behaviour: str
    headers: Dict[str, str]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def document(self) -> Dict[str, Any]:
        return json.loads(self.body)


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class OnCallReceiver:
    """A signed-webhook receiver whose responses follow a script.

    Args:
        secret: The shared secret to check signatures with.
        script: Behaviours for the first requests, in order; every later
            request gets `then`.
        then: Behaviour once the script is used up.
        hang_seconds: How long a `hang` request waits before answering 200.
    """

    def __init__(
        self,
        secret: str,
        script: Optional[List[str]] = None,
        then: str = ACCEPT,
        hang_seconds: float = 3.0,
    ) -> None:
        self.secret = secret
        self.script = list(script or [])
        self.then = then
        self.hang_seconds = hang_seconds
        self.requests: List[ReceivedRequest] = []
        self.processed: Dict[str, Dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oncall"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type:
        receiver = self

        class Handler(_QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.handle(self, body)

        return Handler

    def next_behaviour(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else self.then

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        behaviour = self.next_behaviour()
        delivery_id = handler.headers.get(DELIVERY_HEADER) or ""
        signature_valid = verify(
            self.secret, body, handler.headers.get(SIGNATURE_HEADER)
        )
        with self.lock:
            self.requests.append(
                ReceivedRequest(
                    delivery_id=delivery_id,
                    body=body,
                    signature_valid=signature_valid,
                    behaviour=behaviour,
                    headers=dict(handler.headers),
                )
            )
        if behaviour == FAIL:
            self._answer(handler, 503, b'{"error": "on-call system down"}')
            return
        if behaviour == HANG:
            time.sleep(self.hang_seconds)
        if not signature_valid:
            self._answer(handler, 401, b'{"error": "bad signature"}')
            return
        with self.lock:
            # A repeat of a delivery id is acknowledged but not processed.
            self.processed.setdefault(delivery_id, json.loads(body))
        self._answer(handler, 200, b'{"ok": true}')

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting

    def requests_for(self, delivery_id: str) -> List[ReceivedRequest]:
        with self.lock:
            return [item for item in self.requests if item.delivery_id == delivery_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class TwilioMessage:
    sid: str
    to: str
    from_: str
    body: str


class FakeTwilio:
    """Twilio's Messages API for one account: send, and list what was sent.

    Args:
        account_sid, auth_token: The credentials requests must carry.
        hang_first_sends: How many sends wait `hang_seconds` before
            responding. The message counts as sent all the same, as when
            Twilio accepts a message but the answer is lost.
    """

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-token",
        hang_first_sends: int = 0,
        hang_seconds: float = 3.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.hang_first_sends = hang_first_sends
        self.hang_seconds = hang_seconds
        self.sent: List[TwilioMessage] = []
        self.sends = 0
        self.lookups = 0
        self.lock = threading.Lock()
        self.sids = (f"SM{number:032d}" for number in itertools.count(1))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _authorized(self, handler: BaseHTTPRequestHandler) -> bool:
        expected = base64.b64encode(
            f"{self.account_sid}:{self.auth_token}".encode()
        ).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}"

    def _handler(self) -> type:
        twilio = self

        class Handler(_QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                twilio.send(self, {key: values[0] for key, values in form.items()})

            def do_GET(self) -> None:
                twilio.list(self)

        return Handler

    def send(self, handler: BaseHTTPRequestHandler, form: Dict[str, str]) -> None:
        if urlsplit(handler.path).path != self.path or not self._authorized(handler):
            OnCallReceiver._answer(handler, 401, b'{"code": 20003}')
            return
        with self.lock:
            self.sends += 1
            hang = self.sends <= self.hang_first_sends
            message = TwilioMessage(
                next(self.sids), form["To"], form["From"], form["Body"]
            )
            self.sent.append(message)
        if hang:
            time.sleep(self.hang_seconds)
        body = json.dumps({"sid": message.sid, "status": "queued"}).encode()
        OnCallReceiver._answer(handler, 201, body)

    def list(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path != self.path or not self._authorized(handler):
            OnCallReceiver._answer(handler, 401, b'{"code": 20003}')
            return
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        with self.lock:
            self.lookups += 1
            found = [
                {"sid": item.sid, "to": item.to, "from": item.from_, "body": item.body}
                for item in self.sent
                if item.to == query.get("To") and item.from_ == query.get("From")
            ]
        body = json.dumps({"messages": found}).encode()
        OnCallReceiver._answer(handler, 200, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A minimal SMTP server (EHLO, MAIL, RCPT, DATA, QUIT) that keeps mail."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self) -> None:
                self.reply("220 loopback SMTP ready")
                sender, recipients = None, []
                while True:
                    line = self.rfile.readline().decode().rstrip("\r\n")
                    if not line:
                        return
                    command = line.split(" ", 1)[0].upper()
                    if command in ("EHLO", "HELO"):
                        self.reply("250 loopback")
                    elif command == "MAIL":
                        sender = line.split(":", 1)[1].strip()
                        self.reply("250 OK")
                    elif command == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip())
                        self.reply("250 OK")
                    elif command == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while True:
                            data = self.rfile.readline().decode()
                            if data in (".\r\n", ".\n", ""):
                                break
                            lines.append(data)
                        receiver.messages.append(
                            {
                                "from": sender,
                                "to": recipients,
                                "data": "".join(lines),
                            }
                        )
                        self.reply("250 OK queued")
                    elif command == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"smtp://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
