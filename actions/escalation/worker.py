"""The delivery worker: sends outbox rows until each receiver acknowledges.

Run it as a process of its own, next to the action server::

    python -m actions.escalation.worker --endpoints endpoints.yml

It claims due rows (escalations first), makes one attempt per row, and
schedules a failed row again with exponential backoff. Rows live in the case
store, so a restart of any process loses nothing: a row held by a worker
that stopped is taken over once its lease ends. Several workers may run at
once; each row is held by one at a time.

Every failed attempt is logged with the folio, as a warning, and as an error
once the case is older than the deadline configured in ``endpoints.yml``.

NOTE: importing this module runs ``actions/__init__.py``, which loads and
validates the catalog although the worker does not use it. An invalid
catalog therefore stops the worker too, and escalations wait until it is
fixed.
"""

import argparse
import logging
import os
import random
import signal
import socket
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional, Protocol

import requests
from sqlalchemy.exc import SQLAlchemyError

from actions.db.models import utc_now
from actions.escalation.config import SettingsError, WorkerSettings, load_settings
from actions.escalation.outbox import (
    ESCALATION,
    ONCALL_WEBHOOK,
    ONCALL_WHATSAPP,
    ClaimedMessage,
    claim_due_messages,
    record_delivered,
    record_failure,
    record_skipped,
    release,
    start_attempt,
)
from actions.escalation.senders import (
    EmailSender,
    MissingReceiver,
    Outcome,
    WebhookSender,
    WhatsAppAlertSender,
)

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINTS = Path("endpoints.yml")


class Sender(Protocol):
    def send(self, message: ClaimedMessage) -> Outcome: ...


class DeliveryWorker:
    """Claims outbox rows and makes one attempt per row.

    Args:
        settings: The worker's settings from ``endpoints.yml``.
        worker_id: A name unique among running workers, stored on the rows it
            holds.
        batch_size: How many rows to claim at once.
        http: The HTTP session for webhooks and Twilio.
        clock: Returns the current aware UTC time.
    """

    def __init__(
        self,
        settings: WorkerSettings,
        worker_id: str,
        batch_size: int = 5,
        http: Optional[requests.Session] = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.http = http or requests.Session()
        self.clock = clock
        self.stopping = threading.Event()
        self._senders: Dict[str, Sender] = {}

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.escalation.lease_seconds)

    def run_forever(self, poll_seconds: float) -> None:
        """Deliver due rows until `stopping` is set, waiting when none is due."""
        while not self.stopping.is_set():
            try:
                processed = self.run_once()
            except SQLAlchemyError:
                logger.exception(
                    "Case store unavailable; retrying in %.0f s", poll_seconds
                )
                processed = 0
            if processed == 0:
                self.stopping.wait(poll_seconds)

    def run_once(self) -> int:
        """Claim the rows that are due and make one attempt for each.

        Returns:
            How many rows were claimed.
        """
        messages = claim_due_messages(
            self.worker_id, self.clock(), self.lease, self.batch_size
        )
        for message in messages:
            if self.stopping.is_set():
                release(message, self.worker_id)
                continue
            self.attempt(message)
        return len(messages)

    def attempt(self, message: ClaimedMessage) -> None:
        """Send one row once and record the outcome."""
        sender = self.sender_for(message)
        if sender is None:
            record_skipped(message, self.worker_id, "no WhatsApp alert configured")
            logger.info(
                "Skipped the WhatsApp alert of case %s: escalation.whatsapp_alert_to "
                "is empty",
                message.folio,
            )
            return
        if not start_attempt(message, self.worker_id, self.clock(), self.lease):
            return

        attempt = message.attempts + 1
        try:
            outcome = sender.send(message)
        except Exception as error:  # a bug in a sender must not stop the worker
            logger.exception("Sender for %s failed unexpectedly", message.receiver)
            outcome = Outcome(False, f"{type(error).__name__}: {error}", uncertain=True)

        now = self.clock()
        if outcome.acknowledged:
            record_delivered(message, self.worker_id, now)
            logger.info(
                "Delivered case %s to %s at attempt %d (%s)",
                message.folio,
                message.receiver,
                attempt,
                outcome.detail or "acknowledged",
            )
            return

        delay = self.backoff_seconds(attempt)
        record_failure(
            message,
            self.worker_id,
            outcome.error or "not acknowledged",
            retry_at=now + timedelta(seconds=delay),
            uncertain=outcome.uncertain,
        )
        self.log_failure(message, attempt, outcome, delay, now)

    def backoff_seconds(self, attempt: int) -> float:
        """Return the wait before the next attempt: doubled each time, jittered.

        The jitter (±10 %) keeps many rows that failed together from
        retrying at the same instant.
        """
        escalation = self.settings.escalation
        base = escalation.retry_initial_seconds * 2 ** min(attempt - 1, 30)
        return min(base, escalation.retry_max_seconds) * random.uniform(0.9, 1.1)

    def log_failure(
        self,
        message: ClaimedMessage,
        attempt: int,
        outcome: Outcome,
        delay: float,
        now: datetime,
    ) -> None:
        """Log a failed attempt: an error once the case is past its deadline."""
        if message.kind == ESCALATION:
            deadline = self.settings.escalation.deadline
        else:
            deadline = self.settings.case_delivery.deadline
        age = now - message.created_at
        overdue = age >= deadline
        passed = f" (deadline {deadline.total_seconds() / 60:g} min passed)"
        logger.log(
            logging.ERROR if overdue else logging.WARNING,
            "%s case %s to %s failed at attempt %d, %d min after the case was "
            "created%s: %s; next attempt in %.0f s",
            "Escalation of" if message.kind == ESCALATION else "Delivery of",
            message.folio,
            message.receiver,
            attempt,
            age.total_seconds() // 60,
            passed if overdue else "",
            outcome.error or "not acknowledged",
            delay,
        )

    def sender_for(self, message: ClaimedMessage) -> Optional[Sender]:
        """Return the sender of a row's receiver, or None to skip the row."""
        whatsapp = self.settings.escalation.whatsapp
        if message.receiver == ONCALL_WHATSAPP and whatsapp is None:
            return None
        # Bodies share one sender per method: "email:aguakan" -> "email".
        key = message.receiver
        if message.kind != ESCALATION:
            key = message.receiver.split(":")[0]
        if key not in self._senders:
            self._senders[key] = self._make_sender(key)
        return self._senders[key]

    def _make_sender(self, key: str) -> Sender:
        escalation = self.settings.escalation
        delivery = self.settings.case_delivery
        timeout = escalation.timeout_seconds
        if key == ONCALL_WEBHOOK:
            if not escalation.url or not escalation.secret:
                return MissingReceiver("escalation.url is not set in endpoints.yml")
            return WebhookSender(
                escalation.url, escalation.secret, timeout, "case.escalated", self.http
            )
        if key == ONCALL_WHATSAPP:
            return WhatsAppAlertSender(escalation.whatsapp, timeout, self.http)
        if key == "email":
            if not delivery.smtp_url:
                return MissingReceiver(
                    "case_delivery.smtp_url is not set in endpoints.yml"
                )
            return EmailSender(delivery.smtp_url, delivery.email_from, timeout)
        if key == "webhook":
            if not delivery.webhook_secret:
                return MissingReceiver(
                    "case_delivery.webhook_secret is not set in endpoints.yml"
                )
            return _BodyWebhooks(delivery.webhook_secret, timeout, self.http)
        return MissingReceiver(f"unknown receiver {key!r}")


class _BodyWebhooks:
    """Webhook sender for bodies, whose URL is stored on each row."""

    def __init__(self, secret: str, timeout: float, http: requests.Session) -> None:
        self.secret = secret
        self.timeout = timeout
        self.http = http

    def send(self, message: ClaimedMessage) -> Outcome:
        if not message.target:
            return Outcome(False, "no webhook URL for this body in routing.yml")
        sender = WebhookSender(
            message.target, self.secret, self.timeout, "case.routed", self.http
        )
        return sender.send(message)


def default_worker_id() -> str:
    """Return a worker name unique on this host: host, process id and a tag."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def parse_arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m actions.escalation.worker",
        description="Deliver escalated cases to the on-call channel and cases "
        "to the bodies that receive them by e-mail or webhook.",
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=DEFAULT_ENDPOINTS,
        help="endpoints file with the escalation and case_delivery sections "
        "(default: endpoints.yml)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=2.0,
        help="wait between checks when no row is due, in seconds (default: 2)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=5,
        help="rows claimed at once (default: 5)",
    )
    parser.add_argument(
        "--worker-id",
        default=None,
        help="ID recorded on the rows this worker claims (default: host-pid-random)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="make one pass over the due rows and exit",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR"
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the worker until SIGTERM or SIGINT; return the exit status."""
    arguments = parse_arguments(argv)
    logging.basicConfig(
        level=arguments.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(arguments.endpoints)
    except SettingsError as error:
        logger.error("Invalid worker settings: %s", error)
        return 2

    worker = DeliveryWorker(
        settings,
        arguments.worker_id or default_worker_id(),
        batch_size=arguments.batch_size,
    )
    if not settings.escalation.url:
        logger.error(
            "escalation.url is empty in %s: escalated cases stay pending until "
            "it is set",
            arguments.endpoints,
        )
    if arguments.once:
        worker.run_once()
        return 0

    def stop(signal_number: int, _frame: object) -> None:
        logger.info("Stopping after the current attempt (signal %d)", signal_number)
        worker.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(
        "Delivery worker %s started: %r, %r",
        worker.worker_id,
        settings.escalation,
        settings.case_delivery,
    )
    worker.run_forever(arguments.poll_seconds)
    logger.info("Delivery worker %s stopped", worker.worker_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
