"""Whole conversations through a running Rasa server and action server.

The servers run the project's trained model (models/, trained by the test
command before pytest) and talk over the REST channel, as an integration
would. The case store is a fresh SQLite file checked after each story.
"""

import re
import uuid
from typing import Iterator, List

import pytest
import requests
from sqlalchemy import create_engine, text

from actions.db.folio import format_folio
from actions.db.migrate import upgrade_database
from tests.channel.rasa_stack import RasaStack, newest_model
from tests.support import PROJECT_ROOT

pytestmark = pytest.mark.e2e

FOLIO = re.compile(r"CUN-\d{2}-\d{6,}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RasaStack]:
    model = newest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.fail("No trained model in models/: run the test command, which trains one.")
    work_dir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{work_dir / 'cases.db'}"
    upgrade_database(database_url)
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
    """One citizen's chat with the assistant over the REST channel."""

    def __init__(self, stack: RasaStack, sender: str = "") -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"+52998{uuid.uuid4().int % 10**7:07d}"

    def say(self, message: str) -> str:
        response = requests.post(
            self.url, json={"sender": self.sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        replies: List[str] = [item.get("text", "") for item in response.json()]
        return "\n".join(replies)


def cases_of(stack: RasaStack, sender: str) -> List[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text('SELECT * FROM "case" WHERE sender = :sender ORDER BY id'),
            {"sender": sender},
        ).mappings()
        result = [dict(row) for row in rows]
    engine.dispose()
    return result


def test_greeting_shows_numbered_menu(stack):
    reply = Chat(stack).say("hola buenas tardes")
    assert "1. Reportar una falla" in reply
    assert "6. Seguimiento de un folio" in reply


def test_pothole_report_then_status_in_same_chat(stack):
    chat = Chat(stack)
    assert "1." in chat.say("hola")
    assert "¿Qué tipo de falla" in chat.say("1")
    assert "Cuéntame" in chat.say("2")
    assert "¿Dónde es?" in chat.say("esta enorme el bache, ya se cayo un motociclista")
    assert "Me falta" in chat.say("por mi casa")
    assert "la colonia, SM o región" in chat.say("av tulum")
    assert "¿Qué hay cerca para ubicarlo?" in chat.say("sm 22")
    summary = chat.say("frente al oxxo")
    assert "Tu reporte" in summary
    assert "Bache" in summary
    created = chat.say("1")
    folio = FOLIO.search(created).group(0)
    assert "Obras Públicas" in created

    [case] = cases_of(stack, chat.sender)
    assert case["folio"] == folio
    assert case["category"] == "bache"
    assert case["department"] == "obras_publicas"
    assert case["reference"] == "frente al oxxo"
    assert case["address"] == "av tulum, sm 22"

    status = chat.say(f"como va mi folio {folio.lower().replace('-', ' ')}")
    assert "Estado: Recibido" in status
    assert folio in status


def test_report_with_place_in_first_message(stack):
    chat = Chat(stack)
    summary = chat.say("hay un bache enorme en la av kabah x la sm 63 frente al oxxo")
    assert "Tu reporte" in summary
    assert "Dónde: av kabah x la sm 63" in summary
    assert "Referencia: frente al oxxo" in summary
    chat.say("1")

    [case] = cases_of(stack, chat.sender)
    assert case["category"] == "bache"
    assert case["address"] == "av kabah x la sm 63"
    assert case["reference"] == "frente al oxxo"


def test_status_hidden_from_other_numbers(stack):
    owner = Chat(stack)
    owner.say("se fundio la lampara del poste de mi calle")
    owner.say("la luz esta apagada desde hace una semana")
    owner.say("calle Jaguar, SM 21")
    owner.say("no")
    folio = FOLIO.search(owner.say("1")).group(0)

    stranger = Chat(stack)
    reply = stranger.say(f"quiero saber como va el folio {folio}")
    assert "No encontré" in reply
    assert "Estado" not in reply


def test_status_without_folio_lists_open_cases(stack):
    chat = Chat(stack)
    chat.say("no ha pasado la basura en toda la semana en mi calle")
    chat.say("calle Gladiolas, Jardines del Sur")
    chat.say("atras de la escuela")
    folio = FOLIO.search(chat.say("1")).group(0)

    listing = chat.say("quiero dar seguimiento a mi reporte")
    assert f"1. {folio}" in listing
    assert "Estado" in chat.say("1")


def test_mistyped_folio_rejected_by_check_digit(stack):
    folio = format_folio(2026, 12)
    mistyped = folio[:-1] + str((int(folio[-1]) + 1) % 10)
    chat = Chat(stack)
    assert "folio" in chat.say("6")
    reply = chat.say(mistyped)
    assert f"El folio *{mistyped}* no es válido" in reply


def test_cancel_mid_form_saves_nothing(stack):
    chat = Chat(stack)
    assert "¿Qué quieres denunciar?" in chat.say("quiero poner una denuncia")
    assert "Listo, lo dejamos aquí" in chat.say("cancelar")
    assert cases_of(stack, chat.sender) == []


def test_help_mid_form_resumes_question(stack):
    chat = Chat(stack)
    chat.say("1")
    reply = chat.say("ayuda")
    assert "cancelar" in reply
    assert "¿Qué tipo de falla" in reply


def test_three_invalid_answers_offer_person(stack):
    chat = Chat(stack)
    chat.say("1")
    chat.say("77")
    chat.say("88")
    reply = chat.say("99")
    assert "1. Hablar con una persona" in reply
    assert "persona del equipo" in chat.say("1")


def test_violence_gets_help_first_and_urgent_case(stack):
    chat = Chat(stack)
    first = chat.say("mi esposo me pega y me amenaza")
    assert "911" in first
    assert "079" in first
    assert "¿Estás en peligro" in first
    chat.say("2")
    chat.say("me amenaza con quitarme a mis hijos")
    chat.say("prefiero no decir")
    assert "Tu caso" in chat.say("por este whatsapp en las mañanas")
    created = chat.say("1")
    assert FOLIO.search(created)

    [case] = cases_of(stack, chat.sender)
    assert case["priority"] == "urgente"
    assert bool(case["needs_escalation"]) is True


def test_person_during_violence_report(stack):
    chat = Chat(stack)
    chat.say("mi padrastro le pega a mi hermanita")
    chat.say("2")
    reply = chat.say("quiero hablar con una persona")
    assert "DIF" in reply
    folio = FOLIO.search(reply).group(0)

    [case] = cases_of(stack, chat.sender)
    assert case["folio"] == folio
    assert case["department"] == "dif"
    assert bool(case["needs_escalation"]) is True
    assert "1." in chat.say("hola")


def test_emergency_gets_911_at_once(stack):
    reply = Chat(stack).say("se esta quemando una casa en la region 94 ayuda")
    assert "911" in reply
