"""Routing, groups and escalation in whole conversations with real servers.

The servers run the trained model in models/ over the REST channel, with a
fresh SQLite case store that each test reads afterwards.
"""

import re
import uuid
from typing import Iterator, List

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.channel.rasa_stack import RasaStack, newest_model
from tests.support import PROJECT_ROOT

pytestmark = pytest.mark.e2e

FOLIO = re.compile(r"CUN-\d{2}-\d{6,}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RasaStack]:
    model = newest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.fail("No trained model in models/: run `make test`, which trains one.")
    work_dir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{work_dir / 'cases.db'}"
    servers = RasaStack(
        PROJECT_ROOT,
        model,
        work_dir,
        credentials={"rest": None},
        extra_env={"DATABASE_URL": database_url},
    )
    servers.start()
    servers.database_url = database_url
    yield servers
    servers.stop()


class Chat:
    """One citizen's chat over the REST channel."""

    def __init__(self, stack: RasaStack) -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = f"+52998{uuid.uuid4().int % 10**7:07d}"

    def say(self, message: str) -> str:
        response = requests.post(
            self.url, json={"sender": self.sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        return "\n".join(item.get("text", "") for item in response.json())


def query(stack: RasaStack, sql: str, **params) -> List[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(text(sql), params).mappings()]
    engine.dispose()
    return rows


def test_salir_closes_violence_chat_neutrally(stack):
    chat = Chat(stack)
    first = chat.say("mi pareja me golpea y me amenaza")
    assert "911" in first
    assert "escribe *salir*" in first
    chat.say("1")

    assert chat.say("salir") == "Gracias, tu consulta quedó registrada."
    [case] = query(stack, 'SELECT * FROM "case" WHERE sender = :s', s=chat.sender)
    assert case["request_type"] == "violencia"
    assert bool(case["needs_escalation"]) is True
    receivers = query(
        stack,
        "SELECT receiver FROM outbox_message WHERE case_id = :id ORDER BY id",
        id=case["id"],
    )
    assert [row["receiver"] for row in receivers] == [
        "oncall_webhook",
        "oncall_whatsapp",
    ]
    assert "1. Reportar una falla" in chat.say("hola")


def test_water_report_asks_group_and_refers(stack):
    chat = Chat(stack)
    assert "¿Dónde es?" in chat.say("no hay agua en mi casa desde el lunes")
    assert "¿Qué hay cerca" in chat.say("calle Jaguar, SM 21")
    question = chat.say("no")
    assert "¿alguna de estas situaciones" in question
    assert "1. Persona adulta mayor" in question
    assert "Tu reporte" in chat.say("1")

    created = chat.say("1")
    assert FOLIO.search(created)
    assert "Aguakan" in created
    assert "Ten a la mano" in created
    assert "atención preferente" in created
    assert "DIF Benito Juárez, personas adultas mayores" in created

    [case] = query(stack, 'SELECT * FROM "case" WHERE sender = :s', s=chat.sender)
    assert case["status"] == "canalizado"
    assert case["priority"] == "alta"
    groups = query(
        stack, "SELECT * FROM case_group WHERE case_id = :id", id=case["id"]
    )
    assert [(row["group"], row["source"]) for row in groups] == [
        ("adulto_mayor", "respondido")
    ]


def test_second_pothole_on_same_street_is_linked(stack):
    folios = []
    for _ in range(2):
        chat = Chat(stack)
        chat.say("hay un bache enorme en la avenida")
        chat.say("av Kabah, SM 64")
        chat.say("frente a la gasolinera")
        folios.append((chat, chat.say("1")))

    assert "ya lo había reportado" not in folios[0][1]
    assert "ya lo había reportado" in folios[1][1]
    first, second = (
        query(stack, 'SELECT * FROM "case" WHERE sender = :s', s=chat.sender)[0]
        for chat, _ in folios
    )
    assert second["linked_case_id"] == first["id"]
