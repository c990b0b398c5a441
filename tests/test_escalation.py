"""Escalation and delivery: the outbox, the worker and real loopback receivers.

Every test that takes `database` runs on SQLite and, with TEST_DATABASE_URL,
on PostgreSQL, where workers claim rows with FOR UPDATE SKIP LOCKED.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions.cases import NewCase, create_case
from actions.db.models import Case, OutboxMessage, utc_now
from actions.db.session import session_scope
from actions.escalation.config import (
    CaseDeliverySettings,
    EscalationSettings,
    SettingsError,
    WhatsAppAlert,
    WorkerSettings,
    load_settings,
)
from actions.escalation.outbox import as_utc
from actions.escalation.signing import sign, verify
from actions.escalation.worker import DeliveryWorker, main
from actions.forms.violence import ValidateViolenceForm
from actions.submit import SubmitRequest
from tests.loopback_receivers import (
    ACCEPT,
    FAIL,
    HANG,
    FakeTwilio,
    OnCallReceiver,
    SmtpReceiver,
)
from tests.support import CITIZEN, PROJECT_ROOT, domain_dict, make_tracker, run_action

SECRET = "oncall-test-secret"
BODY_SECRET = "bodies-test-secret"
ON_DUTY = "+529980001122"
TWILIO_NUMBER = "+529987784500"


def escalated_case(description: str = "mi pareja me amenaza") -> str:
    """Store an escalated violence case and return its folio."""
    with session_scope() as session:
        return create_case(
            session,
            NewCase(
                request_type="violencia",
                department="instituto_mujer",
                sender=CITIZEN,
                sla_hours=2,
                description=description,
                contact="por este WhatsApp, en las mañanas",
                priority="urgente",
                needs_escalation=True,
                in_danger=False,
                groups=("mujer_violencia",),
            ),
        ).folio


def make_settings(
    url: Optional[str],
    whatsapp: Optional[WhatsAppAlert] = None,
    deadline: timedelta = timedelta(minutes=10),
    timeout: float = 0.5,
    lease: float = 2.0,
    smtp_url: Optional[str] = None,
) -> WorkerSettings:
    return WorkerSettings(
        escalation=EscalationSettings(
            url=url,
            secret=SECRET,
            whatsapp=whatsapp,
            deadline=deadline,
            timeout_seconds=timeout,
            retry_initial_seconds=0.05,
            retry_max_seconds=0.2,
            lease_seconds=lease,
        ),
        case_delivery=CaseDeliverySettings(
            smtp_url=smtp_url, webhook_secret=BODY_SECRET
        ),
    )


def outbox(folio: Optional[str] = None) -> List[Dict]:
    with session_scope() as session:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if folio is not None:
            statement = statement.where(OutboxMessage.folio == folio)
        return [
            {
                "folio": row.folio,
                "receiver": row.receiver,
                "kind": row.kind,
                "target": row.target,
                "status": row.status,
                "attempts": row.attempts,
                "uncertain": row.uncertain,
                "sending_since": row.sending_since,
                "payload": json.loads(row.payload),
            }
            for row in session.execute(statement).scalars()
        ]


def wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def run_until(worker: DeliveryWorker, condition: Callable[[], bool], seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        worker.run_once()
        time.sleep(0.02)
    assert condition(), "the worker did not finish in time"


@pytest.fixture
def receiver():
    server = OnCallReceiver(SECRET)
    yield server
    server.close()


# The outbox


def test_escalated_case_queues_both_receivers(database):
    folio = escalated_case()
    rows = outbox(folio)
    assert [row["receiver"] for row in rows] == ["oncall_webhook", "oncall_whatsapp"]
    assert {row["status"] for row in rows} == {"pending"}
    assert rows[0]["payload"]["folio"] == folio
    assert rows[0]["payload"]["safe_contact"] == "por este WhatsApp, en las mañanas"
    assert rows[0]["payload"]["in_danger"] is False
    assert rows[0]["payload"]["groups"] == ["mujer_violencia"]


def test_outbox_rolls_back_with_case(database):
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            create_case(
                session,
                NewCase(
                    request_type="violencia",
                    department="instituto_mujer",
                    sender=CITIZEN,
                    sla_hours=2,
                    needs_escalation=True,
                ),
            )
            raise RuntimeError("the transaction fails after the insert")
    with session_scope() as session:
        assert session.execute(select(Case)).first() is None
    assert outbox() == []


def test_internal_case_queues_nothing(database):
    with session_scope() as session:
        create_case(
            session,
            NewCase(
                request_type="reporte",
                category="bache",
                department="obras_publicas",
                sender=CITIZEN,
                sla_hours=120,
            ),
        )
    assert outbox() == []


def test_email_body_queues_delivery(database):
    with session_scope() as session:
        folio = create_case(
            session,
            NewCase(
                request_type="reporte",
                category="agua",
                department="aguakan",
                sender=CITIZEN,
                sla_hours=24,
                status="canalizado",
                delivery="email",
                delivery_target="reportes@aguakan.test",
            ),
        ).folio
    [row] = outbox(folio)
    assert row["receiver"] == "email:aguakan"
    assert row["kind"] == "delivery"
    assert row["target"] == "reportes@aguakan.test"


async def test_violence_form_queues_escalation(database):
    slots = {
        "in_danger": True,
        "description": "mi expareja me amenazó con un cuchillo",
        "address": "No lo indicó",
        "safe_contact": "por este WhatsApp",
        "confirmation": "send",
    }
    events = [
        {"event": "active_loop", "name": "violence_form"},
        {"event": "active_loop", "name": None},
    ]
    tracker = make_tracker(text="1", slots=slots, events=events)
    await run_action(SubmitRequest(), tracker)
    rows = outbox()
    assert [row["receiver"] for row in rows] == ["oncall_webhook", "oncall_whatsapp"]
    assert rows[0]["payload"]["in_danger"] is True
    assert rows[0]["payload"]["priority"] == "urgente"


# What the person hears


async def test_violence_form_says_what_to_do_now():
    tracker = make_tracker(
        text="mi esposo me pega", intent="report_violence", active_loop="violence_form"
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateViolenceForm().run(dispatcher, tracker, domain_dict())
    [message] = dispatcher.messages
    assert message["response"] == "utter_violence_next_steps"
    assert message["dif_phone"] == "998 884 7100"
    assert {"event": "slot", "name": "requested_slot", "value": "in_danger",
            "timestamp": None} in events


@pytest.mark.parametrize("answer", ["salir", "Salir.", "SALIR YA"])
async def test_salir_ends_violence_form_at_once(answer):
    tracker = make_tracker(
        text=answer,
        intent="cancel",
        slots={"requested_slot": "description", "in_danger": True},
        active_loop="violence_form",
    )
    slots, replies = await run_action(ValidateViolenceForm(), tracker)
    assert slots["way_out"] == "exit"
    assert slots["requested_slot"] is None
    assert replies == []


async def test_salir_stores_case_and_closes_neutrally(database):
    slots = {"in_danger": True, "way_out": "exit", "group_answer": "ninguno"}
    events = [
        {"event": "user", "text": "mi pareja me golpea"},
        {"event": "active_loop", "name": "violence_form"},
        {"event": "active_loop", "name": None},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="salir", slots=slots, events=events)
    result = await SubmitRequest().run(dispatcher, tracker, domain_dict())

    assert [message["response"] for message in dispatcher.messages] == [
        "utter_neutral_closing"
    ]
    assert result == [{"event": "reset_slots", "timestamp": None}]
    with session_scope() as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.request_type == "violencia"
        assert case.needs_escalation is True
        assert "salir" in case.history[0].note
        assert case.group_ids == ["mujer_violencia"]
    receivers = [row["receiver"] for row in outbox()]
    assert receivers == ["oncall_webhook", "oncall_whatsapp"]


def test_neutral_closing_names_nothing():
    text = domain_dict()["responses"]["utter_neutral_closing"][0]["text"]
    assert text == "Gracias, tu consulta quedó registrada."


# Delivery to the on-call webhook


def test_delivered_after_failure_and_timeout(database):
    receiver = OnCallReceiver(SECRET, script=[FAIL, HANG], hang_seconds=1.5)
    try:
        folio = escalated_case()
        worker = DeliveryWorker(make_settings(receiver.url), "worker-a")

        def delivered() -> bool:
            return outbox(folio)[0]["status"] == "delivered"

        run_until(worker, delivered, seconds=20)
        time.sleep(0.5)
        worker.run_once()

        delivery_id = f"{folio}/oncall_webhook"
        requests_made = receiver.requests_for(delivery_id)
        assert [item.behaviour for item in requests_made] == [FAIL, HANG, ACCEPT]
        assert all(item.signature_valid for item in requests_made)
        assert len({item.body for item in requests_made}) == 1
        assert list(receiver.processed) == [delivery_id]
        row = outbox(folio)[0]
        assert row["attempts"] == 3
        assert row["uncertain"] is True
        document = receiver.processed[delivery_id]
        assert document["event"] == "case.escalated"
        assert document["case"]["folio"] == folio
    finally:
        receiver.close()


def test_wrong_secret_not_acknowledged(database):
    receiver = OnCallReceiver("another-secret")
    try:
        folio = escalated_case()
        worker = DeliveryWorker(make_settings(receiver.url), "worker-a")
        worker.run_once()
        row = outbox(folio)[0]
        assert row["status"] == "pending"
        assert receiver.processed == {}
    finally:
        receiver.close()


def test_concurrent_workers_send_each_case_once(database, receiver):
    folios = [escalated_case(f"caso número {number}") for number in range(12)]
    workers = [
        DeliveryWorker(make_settings(receiver.url), f"worker-{number}")
        for number in range(3)
    ]
    threads = [
        threading.Thread(target=worker.run_forever, args=(0.02,)) for worker in workers
    ]
    for thread in threads:
        thread.start()
    try:
        done = wait_for(
            lambda: all(
                row["status"] != "pending" for row in outbox()
            ),
            seconds=30,
        )
    finally:
        for worker in workers:
            worker.stopping.set()
        for thread in threads:
            thread.join(timeout=10)

    assert done
    delivery_ids = [item.delivery_id for item in receiver.requests]
    assert sorted(delivery_ids) == sorted(f"{folio}/oncall_webhook" for folio in folios)
    statuses = {row["receiver"]: row["status"] for row in outbox(folios[0])}
    assert statuses == {"oncall_webhook": "delivered", "oncall_whatsapp": "skipped"}


def test_missing_url_keeps_escalation_pending(database):
    folio = escalated_case()
    worker = DeliveryWorker(make_settings(None), "worker-a")
    worker.run_once()
    row = outbox(folio)[0]
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    with session_scope() as session:
        error = session.execute(
            select(OutboxMessage.last_error).where(
                OutboxMessage.receiver == "oncall_webhook"
            )
        ).scalar_one()
    assert "escalation.url" in error


# Errors in the operator log


def age_outbox(minutes: int) -> None:
    """Pretend the outbox rows were created minutes ago and are due now."""
    with session_scope() as session:
        session.execute(
            update(OutboxMessage).values(
                created_at=utc_now() - timedelta(minutes=minutes),
                next_attempt_at=utc_now() - timedelta(seconds=1),
            )
        )


def make_due() -> None:
    with session_scope() as session:
        session.execute(
            update(OutboxMessage).values(
                next_attempt_at=utc_now() - timedelta(seconds=1)
            )
        )


def test_each_retry_past_deadline_logs_error_with_folio(database, caplog):
    receiver = OnCallReceiver(SECRET, then=FAIL)
    try:
        folio = escalated_case()
        settings = make_settings(receiver.url, deadline=timedelta(minutes=5))
        worker = DeliveryWorker(settings, "worker-a")
        age_outbox(minutes=6)
        caplog.set_level(logging.WARNING, logger="actions.escalation.worker")
        for _ in range(3):
            worker.run_once()
            make_due()
        errors = [
            record.getMessage()
            for record in caplog.records
            if record.levelno == logging.ERROR
        ]
        assert len(errors) == 3
        for message in errors:
            assert folio in message
            assert "oncall_webhook" in message
            assert "deadline 5 min passed" in message
    finally:
        receiver.close()


def test_retry_before_deadline_logs_warning(database, caplog):
    receiver = OnCallReceiver(SECRET, then=FAIL)
    try:
        folio = escalated_case()
        worker = DeliveryWorker(make_settings(receiver.url), "worker-a")
        caplog.set_level(logging.WARNING, logger="actions.escalation.worker")
        worker.run_once()
        levels = [record.levelno for record in caplog.records]
        assert levels == [logging.WARNING]
        assert folio in caplog.records[0].getMessage()
    finally:
        receiver.close()


# The WhatsApp alert


def whatsapp_alert(twilio: FakeTwilio) -> WhatsAppAlert:
    return WhatsAppAlert(
        to=f"whatsapp:{ON_DUTY}",
        from_=f"whatsapp:{TWILIO_NUMBER}",
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        api_base_url=twilio.base_url,
    )


def test_whatsapp_alert_once_after_lost_answer(database, receiver):
    twilio = FakeTwilio(hang_first_sends=1, hang_seconds=1.5)
    try:
        folio = escalated_case("mi pareja me amenaza con un arma")
        worker = DeliveryWorker(
            make_settings(receiver.url, whatsapp=whatsapp_alert(twilio)), "worker-a"
        )

        def delivered() -> bool:
            return all(row["status"] == "delivered" for row in outbox(folio))

        run_until(worker, delivered, seconds=20)

        [message] = twilio.sent
        assert message.to == f"whatsapp:{ON_DUTY}"
        assert folio in message.body
        assert "arma" not in message.body
        assert twilio.sends == 1
        assert twilio.lookups == 1
    finally:
        twilio.close()


def test_whatsapp_alert_skipped_without_number(database, receiver):
    folio = escalated_case()
    DeliveryWorker(make_settings(receiver.url), "worker-a").run_once()
    statuses = {row["receiver"]: row["status"] for row in outbox(folio)}
    assert statuses["oncall_whatsapp"] == "skipped"


# Delivery to bodies by e-mail and webhook


def routed_case(delivery: str, target: str) -> str:
    with session_scope() as session:
        return create_case(
            session,
            NewCase(
                request_type="reporte",
                category="agua",
                department="aguakan",
                sender=CITIZEN,
                sla_hours=24,
                description="Fuga de agua potable en la banqueta",
                address="Av. Kabah, SM 64",
                status="canalizado",
                delivery=delivery,
                delivery_target=target,
            ),
        ).folio


def test_email_delivery_to_body(database):
    smtp = SmtpReceiver()
    try:
        folio = routed_case("email", "reportes@aguakan.test")
        settings = make_settings(None, smtp_url=smtp.url)
        DeliveryWorker(settings, "worker-a").run_once()

        [row] = outbox(folio)
        assert row["status"] == "delivered"
        [mail] = smtp.messages
        assert mail["to"] == ["<reportes@aguakan.test>"]
        assert f"Subject: ChatCun {folio}: agua" in mail["data"]
        assert f"Message-ID: <{folio}.email.aguakan@chatcun>" in mail["data"]
        assert "Fuga de agua potable" in mail["data"]
    finally:
        smtp.close()


def test_webhook_delivery_to_body(database):
    body_receiver = OnCallReceiver(BODY_SECRET)
    try:
        folio = routed_case("webhook", body_receiver.url)
        DeliveryWorker(make_settings(None), "worker-a").run_once()

        [row] = outbox(folio)
        assert row["status"] == "delivered"
        document = body_receiver.processed[f"{folio}/webhook:aguakan"]
        assert document["event"] == "case.routed"
        assert document["case"]["address"] == "Av. Kabah, SM 64"
    finally:
        body_receiver.close()


def test_email_without_smtp_stays_pending(database):
    folio = routed_case("email", "reportes@aguakan.test")
    DeliveryWorker(make_settings(None), "worker-a").run_once()
    [row] = outbox(folio)
    assert row["status"] == "pending"
    assert row["attempts"] == 1


# Killing and restarting the worker process


def write_endpoints(path: Path, url: str, timeout: float, lease: float) -> Path:
    path.write_text(
        "escalation:\n"
        f"  url: {url}\n"
        "  secret: ${TEST_ESCALATION_SECRET}\n"
        "  whatsapp_alert_to:\n"
        f"  timeout_seconds: {timeout}\n"
        f"  lease_seconds: {lease}\n"
        "  retry_initial_seconds: 0.1\n"
        "  retry_max_seconds: 0.5\n",
        "utf-8",
    )
    return path


def start_worker(endpoints: Path, database_url: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        TEST_ESCALATION_SECRET=SECRET,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "actions.escalation.worker",
                "--endpoints",
                str(endpoints),
                "--poll-seconds",
                "0.1",
                "--batch-size",
                "1",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def test_killed_worker_loses_nothing(database, tmp_path):
    receiver = OnCallReceiver(SECRET, script=[HANG], hang_seconds=30)
    endpoints = write_endpoints(tmp_path / "endpoints.yml", receiver.url, 3, 7)
    log = tmp_path / "worker.log"
    folios = [escalated_case(f"caso número {number}") for number in range(4)]
    first = start_worker(endpoints, database, log)
    second = None
    try:
        assert wait_for(lambda: receiver.requests, seconds=60), log.read_text()
        in_flight = [row for row in outbox() if row["sending_since"] is not None]
        assert len(in_flight) == 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = start_worker(endpoints, database, log)
        webhook_rows = lambda: [
            row for row in outbox() if row["receiver"] == "oncall_webhook"
        ]
        assert wait_for(
            lambda: all(row["status"] == "delivered" for row in webhook_rows()),
            seconds=60,
        ), log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
        receiver.close()

    interrupted = in_flight[0]["folio"]
    for folio in folios:
        delivery_id = f"{folio}/oncall_webhook"
        assert delivery_id in receiver.processed
        expected = 2 if folio == interrupted else 1
        assert len(receiver.requests_for(delivery_id)) == expected
    [row] = [row for row in webhook_rows() if row["folio"] == interrupted]
    assert row["uncertain"] is True
    assert row["attempts"] == 2


def test_stopped_worker_finishes_its_attempt(database, tmp_path, receiver):
    endpoints = write_endpoints(tmp_path / "endpoints.yml", receiver.url, 1, 3)
    log = tmp_path / "worker.log"
    folio = escalated_case()
    process = start_worker(endpoints, database, log)
    try:
        assert wait_for(
            lambda: outbox(folio)[0]["status"] == "delivered", seconds=60
        ), log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
    assert status == 0
    assert "stopped" in log.read_text()


# Settings


ENDPOINTS = """
action_endpoint:
  url: "http://127.0.0.1:5055/webhook"
escalation:
  url: ${ESCALATION_URL}
  secret: ${ESCALATION_SECRET}
  whatsapp_alert_to: ${ESCALATION_WHATSAPP_TO}
  deadline_minutes: 15
case_delivery:
  smtp_url: ${SMTP_URL}
  email_from: ChatCun <chatcun@cancun.gob.mx>
"""

ENVIRONMENT = {
    "ESCALATION_URL": "https://guardia.test/hooks/chatcun",
    "ESCALATION_SECRET": "s3cr3t",
    "ESCALATION_WHATSAPP_TO": "",
    "SMTP_URL": "",
}


def test_settings_expand_environment(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text(ENDPOINTS, "utf-8")
    settings = load_settings(path, ENVIRONMENT)
    assert settings.escalation.url == "https://guardia.test/hooks/chatcun"
    assert settings.escalation.secret == "s3cr3t"
    assert settings.escalation.whatsapp is None
    assert settings.escalation.deadline == timedelta(minutes=15)
    assert settings.case_delivery.smtp_url is None
    assert "s3cr3t" not in repr(settings)


def test_settings_name_undefined_variable(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text(ENDPOINTS, "utf-8")
    environment = {
        key: value for key, value in ENVIRONMENT.items() if key != "SMTP_URL"
    }
    expected = "case_delivery.smtp_url: environment variable SMTP_URL"
    with pytest.raises(SettingsError, match=expected):
        load_settings(path, environment)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"ESCALATION_SECRET": ""}, "escalation.secret: missing"),
        ({"ESCALATION_URL": "guardia.test"}, "escalation.url: invalid URL"),
        (
            {"SMTP_URL": "mail.test:25"},
            "case_delivery.smtp_url: must start with smtp://",
        ),
        (
            {"ESCALATION_WHATSAPP_TO": ON_DUTY},
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER missing",
        ),
    ],
)
def test_settings_errors_name_setting(tmp_path, change, expected):
    path = tmp_path / "endpoints.yml"
    path.write_text(ENDPOINTS, "utf-8")
    with pytest.raises(SettingsError, match=expected):
        load_settings(path, {**ENVIRONMENT, **change})


def test_settings_whatsapp_from_twilio_environment(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text(ENDPOINTS, "utf-8")
    environment = {
        **ENVIRONMENT,
        "ESCALATION_WHATSAPP_TO": ON_DUTY,
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "token-value",
        "TWILIO_WHATSAPP_NUMBER": TWILIO_NUMBER,
    }
    alert = load_settings(path, environment).escalation.whatsapp
    assert alert.to == f"whatsapp:{ON_DUTY}"
    assert alert.from_ == f"whatsapp:{TWILIO_NUMBER}"
    assert alert.api_base_url == "https://api.twilio.com"
    assert "token-value" not in repr(alert)
    assert ON_DUTY not in repr(alert)


def test_lease_must_outlast_attempt(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "escalation:\n  url: https://guardia.test\n  secret: x\n"
        "  timeout_seconds: 10\n  lease_seconds: 15\n",
        "utf-8",
    )
    with pytest.raises(SettingsError, match="lease_seconds: must be more than twice"):
        load_settings(path, {})


def test_shipped_endpoints_file_loads():
    environment = {
        "ESCALATION_URL": "https://guardia.test/hooks/chatcun",
        "ESCALATION_SECRET": "s3cr3t",
        "ESCALATION_WHATSAPP_TO": "",
        "SMTP_URL": "smtp://user:password@mail.test:587",
        "CASE_WEBHOOK_SECRET": "",
    }
    settings = load_settings(PROJECT_ROOT / "endpoints.yml", environment)
    assert settings.escalation.url == environment["ESCALATION_URL"]
    assert settings.case_delivery.smtp_url == environment["SMTP_URL"]


def test_worker_exits_on_invalid_settings(tmp_path, caplog):
    path = tmp_path / "endpoints.yml"
    path.write_text("escalation:\n  url: https://guardia.test\n", "utf-8")
    assert main(["--endpoints", str(path), "--once"]) == 2
    assert "escalation.secret" in caplog.text


# Signatures


def test_signature_round_trip():
    body = b'{"folio": "CUN-26-000124"}'
    header = sign(SECRET, body, timestamp=1_800_000_000)
    assert verify(SECRET, body, header, now=1_800_000_010)


@pytest.mark.parametrize(
    "body, secret, now",
    [
        (b'{"folio": "CUN-26-000125"}', SECRET, 1_800_000_010),
        (b'{"folio": "CUN-26-000124"}', "other", 1_800_000_010),
        (b'{"folio": "CUN-26-000124"}', SECRET, 1_800_000_000 + 3600),
    ],
    ids=["tampered-body", "wrong-secret", "replayed-later"],
)
def test_signature_rejects(body, secret, now):
    header = sign(SECRET, b'{"folio": "CUN-26-000124"}', timestamp=1_800_000_000)
    assert not verify(secret, body, header, now=now)


def test_stored_times_read_back_as_utc(database):
    folio = escalated_case()
    with session_scope() as session:
        created = session.execute(
            select(OutboxMessage.created_at).where(OutboxMessage.folio == folio)
        ).scalars().first()
    assert as_utc(created).utcoffset() == timedelta(0)
