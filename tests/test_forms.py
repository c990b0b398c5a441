"""Form validation: how each answer a citizen types is read or rejected."""

import pytest

from actions.forms.reports import ValidateComplaintForm, ValidateReportForm
from actions.forms.services import (
    ValidateAdviceForm,
    ValidateInformationForm,
    ValidateProcedureForm,
)
from actions.forms.status import ValidateStatusForm
from actions.forms.violence import ValidateViolenceForm
from actions.db.folio import format_folio
from tests.support import make_tracker, run_action, joined_replies

REPORT = ValidateReportForm()


def asked(slot: str, text: str, intent: str = "nlu_fallback", **kwargs):
    """Tracker for an answer to the report form's question about `slot`."""
    slots = {"requested_slot": slot, **kwargs.pop("slots", {})}
    return make_tracker(
        text=text,
        intent=intent,
        slots=slots,
        active_loop=kwargs.pop("form", "report_form"),
        **kwargs,
    )


def at_reference(text: str, intent: str = "nlu_fallback"):
    """Tracker for an answer to the report form's landmark question."""
    slots = {"category": "bache", "address": "calle 20 region 95"}
    return asked("reference", text, intent=intent, slots=slots)


async def test_first_message_fills_category_and_description():
    tracker = make_tracker(
        text="hay un hoyote enorme en la av kabah frente al oxxo",
        intent="report_issue",
        entities=[{"entity": "category", "value": "bache"}],
        active_loop="report_form",
    )
    slots, _ = await run_action(REPORT, tracker)
    assert slots["category"] == "bache"
    assert slots["description"].startswith("hay un hoyote")
    assert slots["requested_slot"] == "address"


async def test_first_message_with_address_fills_it():
    tracker = make_tracker(
        text="oye hay un bache enorme en la av kabah x la sm 63 frente al oxxo 😡",
        intent="report_issue",
        entities=[{"entity": "category", "value": "bache"}],
        active_loop="report_form",
    )
    slots, _ = await run_action(REPORT, tracker)
    assert slots["address"] == "av kabah x la sm 63"
    assert slots["reference"] == "frente al oxxo"
    assert slots["requested_slot"] == "confirmation"


@pytest.mark.parametrize(
    "text",
    [
        "la calle esta toda oscura en la sm 63 desde el lunes",
        "no pasa la basura en la region 94 desde hace 5 dias",
    ],
)
async def test_first_message_partial_address_asks(text):
    tracker = make_tracker(text=text, intent="report_issue", active_loop="report_form")
    slots, _ = await run_action(REPORT, tracker)
    assert slots.get("address") is None
    assert slots["requested_slot"] in ("category", "address")


async def test_short_first_message_asks_category():
    tracker = make_tracker(text="1", intent="report_issue", active_loop="report_form")
    slots, _ = await run_action(REPORT, tracker)
    assert slots.get("category") is None
    assert slots["requested_slot"] == "category"


@pytest.mark.parametrize(
    "answer, expected",
    [("2", "bache"), ("la 3", "basura"), ("2️⃣", "bache"), ("no hay agua", "agua")],
)
async def test_category_answer(answer, expected):
    slots, _ = await run_action(REPORT, asked("category", answer))
    assert slots["category"] == expected


async def test_three_invalid_answers_offer_way_out():
    attempts = 0
    for _ in range(3):
        tracker = asked("category", "99", slots={"invalid_attempts": attempts})
        slots, replies = await run_action(REPORT, tracker)
        attempts = slots["invalid_attempts"]
    assert attempts == 3
    assert slots["requested_slot"] == "way_out"


@pytest.mark.parametrize(
    "answer, slot, value",
    [("1", "way_out", "human"), ("2", "way_out", "cancel"), ("cancelar", "way_out", "cancel")],
)
async def test_way_out_choices_end_form(answer, slot, value):
    intent = "cancel" if answer == "cancelar" else "nlu_fallback"
    tracker = asked("way_out", answer, intent=intent, slots={"invalid_attempts": 3})
    slots, _ = await run_action(REPORT, tracker)
    assert slots[slot] == value
    assert slots["requested_slot"] is None


async def test_way_out_retry_resets_attempts():
    tracker = asked("way_out", "3", slots={"invalid_attempts": 3})
    slots, _ = await run_action(REPORT, tracker)
    assert slots["invalid_attempts"] == 0
    assert slots["requested_slot"] == "category"


@pytest.mark.parametrize(
    "address",
    [
        "Av. Kabah, SM 64",
        "calle 20 de noviembre region 94",
        "zona hotelera km 9.5",
        "av tulum sm 22 mza 3",
        "Retorno 5, Villas Otoch",
    ],
)
async def test_address_accepted(address):
    slots, _ = await run_action(REPORT, asked("address", address, slots={"category": "bache"}))
    assert slots["address"] == address


@pytest.mark.parametrize(
    "address, missing",
    [("por mi casa", "calle"), ("en la SM 64", "calle"), ("sobre la av. Kabah", "colonia")],
)
async def test_incomplete_address_says_what_is_missing(address, missing):
    slots, replies = await run_action(REPORT, asked("address", address))
    assert slots["address"] is None
    assert replies == ["utter_invalid_address"]
    assert slots["invalid_attempts"] == 1


@pytest.mark.parametrize(
    "first, second, expected",
    [
        ("av tulum", "sm 22", "av tulum, sm 22"),
        ("R-259", "calle 5 mza 12", "R-259, calle 5 mza 12"),
        ("calle Palenque", "Cielo Nuevo", "calle Palenque, Cielo Nuevo"),
    ],
)
async def test_address_in_two_messages(first, second, expected):
    slots, replies = await run_action(REPORT, asked("address", first))
    assert replies == ["utter_invalid_address"]
    assert slots["address_draft"] == first

    slots, replies = await run_action(
        REPORT, asked("address", second, slots={"address_draft": first})
    )
    assert slots["address"] == expected
    assert slots["address_draft"] is None
    assert slots["invalid_attempts"] == 0


@pytest.mark.parametrize(
    "second",
    ["no se", "av tulum", "AV TULUM", "oye y a q hora abren el palacio?"],
)
async def test_half_address_needs_new_part(second):
    slots, replies = await run_action(
        REPORT, asked("address", second, slots={"address_draft": "av tulum"})
    )
    assert slots["address"] is None
    assert replies == ["utter_invalid_address"]


@pytest.mark.parametrize(
    "text, address, reference",
    [
        ("av kabah sm 63 frente al oxxo", "av kabah sm 63", "frente al oxxo"),
        (
            "Calle 10, Región 94, atrás del mercado",
            "Calle 10, Región 94",
            "atrás del mercado",
        ),
        (
            "av tulum sm 22 enfrente de la iglesia",
            "av tulum sm 22",
            "enfrente de la iglesia",
        ),
    ],
)
async def test_landmark_fills_reference(text, address, reference):
    tracker = asked("address", text, slots={"category": "bache"})
    slots, _ = await run_action(REPORT, tracker)
    assert slots["address"] == address
    assert slots["reference"] == reference
    assert slots["requested_slot"] != "reference"


async def test_landmark_joins_half_address():
    tracker = asked(
        "address", "sm 22 junto a la farmacia", slots={"address_draft": "av tulum"}
    )
    slots, _ = await run_action(REPORT, tracker)
    assert slots["address"] == "av tulum, sm 22"
    assert slots["reference"] == "junto a la farmacia"


@pytest.mark.parametrize(
    "text", ["frente al oxxo de la av kabah", "av kabah frente al oxxo"]
)
async def test_landmark_without_full_address_not_split(text):
    slots, replies = await run_action(REPORT, asked("address", text))
    assert slots["address"] is None
    assert slots.get("reference") is None
    assert replies == ["utter_invalid_address"]


async def test_landmark_keeps_earlier_reference():
    tracker = asked(
        "address",
        "av kabah sm 63 frente al oxxo",
        slots={"category": "bache", "reference": "junto al kinder"},
    )
    slots, _ = await run_action(REPORT, tracker)
    assert slots["address"] == "av kabah sm 63 frente al oxxo"
    assert "reference" not in slots


@pytest.mark.parametrize(
    "answer, intent",
    [
        ("si", "affirm"),
        ("Sí", "affirm"),
        ("ok", "affirm"),
        ("ok gracias", "thank"),
        ("3", "nlu_fallback"),
    ],
)
async def test_yes_is_no_reference(answer, intent):
    slots, replies = await run_action(REPORT, at_reference(answer, intent))
    assert slots["reference"] is None
    assert replies == ["utter_invalid_reference"]


async def test_unknown_address_keeps_no_draft():
    slots, _ = await run_action(REPORT, asked("address", "por mi casa"))
    assert slots.get("address_draft") is None


async def test_address_outside_municipality():
    slots, replies = await run_action(
        REPORT, asked("address", "Calle 10 Norte, centro de Playa del Carmen")
    )
    assert slots["address"] is None
    assert replies == ["utter_address_outside"]


async def test_shared_location_inside_fills_coordinates():
    location = {"latitude": 21.1619, "longitude": -86.8515, "address": "Av. Tulum 5"}
    tracker = asked("address", "", metadata={"location": location})
    slots, replies = await run_action(REPORT, tracker)
    assert slots["latitude"] == pytest.approx(21.1619)
    assert slots["longitude"] == pytest.approx(-86.8515)
    assert "Av. Tulum 5" in slots["address"]
    assert replies == ["utter_location_saved"]


async def test_shared_location_outside_asks_again():
    location = {"latitude": 20.6296, "longitude": -87.0739}  # Playa del Carmen
    slots, replies = await run_action(REPORT, asked("address", "", metadata={"location": location}))
    assert slots["address"] is None
    assert replies == ["utter_address_outside"]


async def test_media_in_form_is_kept_as_evidence():
    media = [{"url": "https://api.test/Media/ME1", "content_type": "image/jpeg"}]
    tracker = asked("description", "", metadata={"media": media})
    slots, replies = await run_action(REPORT, tracker)
    assert slots["attachments"][0]["url"] == "https://api.test/Media/ME1"
    assert "utter_attachment_saved" in replies
    assert slots["requested_slot"] == "category"


async def test_same_media_is_not_attached_twice():
    media = [{"url": "https://api.test/Media/ME1", "content_type": "image/jpeg"}]
    tracker = asked(
        "description", "", metadata={"media": media}, slots={"attachments": media}
    )
    slots, replies = await run_action(REPORT, tracker)
    assert "attachments" not in slots
    assert "utter_attachment_saved" not in replies


@pytest.mark.parametrize(
    "text, intent",
    [
        ("ayuda porfa", "help"),
        ("cancelar", "cancel"),
        ("ya no quiero, olvidalo", "cancel"),
        ("quiero hablar con alguien", "human_handoff"),
        ("quien gano el partido", "out_of_scope"),
    ],
)
async def test_interruption_is_not_taken_as_answer(text, intent):
    tracker = asked("description", text, intent=intent)
    slots, replies = await run_action(REPORT, tracker)
    assert "description" not in slots
    assert replies == []


@pytest.mark.parametrize("text", ["ya envialo", "mandalo ya"])
async def test_send_words_confirm_despite_cancel_intent(text):
    full = {
        "category": "bache",
        "description": "bache grande",
        "address": "Av. Kabah, SM 64",
        "reference": "frente al Oxxo",
    }
    tracker = asked("confirmation", text, intent="cancel", slots=full)
    slots, _ = await run_action(REPORT, tracker)
    assert slots["confirmation"] == "send"


async def test_landmark_read_as_affirm_is_kept():
    tracker = at_reference("enfrente del oxxo", intent="affirm")
    slots_set, _ = await run_action(REPORT, tracker)
    assert slots_set["reference"] == "enfrente del oxxo"


@pytest.mark.parametrize("answer", ["nel", "No.", "no hay", "ninguna"])
async def test_no_landmark_answers(answer):
    slots_set, _ = await run_action(REPORT, at_reference(answer, intent="deny"))
    assert slots_set["reference"] == "Sin referencia"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("enfrente de la primaria", "report_violence"),
        ("afuera de mi casa", "report_violence"),
        ("cerca de la escuela", "out_of_scope"),
        ("hospital general", "out_of_scope"),
    ],
)
async def test_landmark_answer_is_not_interruption(text, intent):
    slots_set, _ = await run_action(REPORT, at_reference(text, intent))
    assert slots_set["reference"] == text


async def test_vague_place_gets_address_question():
    tracker = asked("address", "por el hospital general", intent="out_of_scope")
    _, replies = await run_action(REPORT, tracker)
    assert replies == ["utter_invalid_address"]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("ayuda porfa", "help"),
        ("cancelar", "cancel"),
        ("a que hora abren?", "out_of_scope"),
    ],
)
async def test_reference_interruptions_still_work(text, intent):
    slots_set, replies = await run_action(REPORT, at_reference(text, intent))
    assert "reference" not in slots_set
    assert replies == []


@pytest.mark.parametrize(
    "text, intent",
    [
        ("por este whatsapp", "help"),
        ("a este numero", "help"),
        ("por aqui", "help"),
    ],
)
async def test_safe_contact_answer_is_not_interruption(text, intent):
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={
            "requested_slot": "safe_contact",
            "in_danger": False,
            "description": "mi pareja me amenaza",
            "address": "sm 70",
        },
        active_loop="violence_form",
    )
    slots, _ = await run_action(ValidateViolenceForm(), tracker)
    assert slots["safe_contact"] == text


async def test_violence_area_answer_is_not_interruption():
    tracker = make_tracker(
        text="sm 70",
        intent="out_of_scope",
        slots={
            "requested_slot": "address",
            "in_danger": False,
            "description": "me pega",
        },
        active_loop="violence_form",
    )
    slots, _ = await run_action(ValidateViolenceForm(), tracker)
    assert slots["address"] == "sm 70"


async def test_complete_address_is_never_an_interruption():
    tracker = asked("address", "SM 21 MZ 5 LT 3", intent="check_case_status")
    slots, _ = await run_action(REPORT, tracker)
    assert slots["address"] == "SM 21 MZ 5 LT 3"


async def test_emergency_warns_and_keeps_answer():
    tracker = asked(
        "description",
        "ya se cayo un motociclista en el bache",
        intent="emergency",
        confidence=0.9,
    )
    slots, replies = await run_action(REPORT, tracker)
    assert replies[0] == "utter_emergency"
    assert slots["description"] == "ya se cayo un motociclista en el bache"


async def test_number_is_an_answer_even_with_menu_intent():
    tracker = asked("category", "6", intent="check_case_status", confidence=1.0)
    slots, _ = await run_action(REPORT, tracker)
    assert slots["category"] == "semaforo"


@pytest.mark.parametrize(
    "answer, value", [("1", "send"), ("si", "send"), ("3", "cancel")]
)
async def test_confirmation(answer, value):
    full = {
        "category": "bache",
        "description": "bache grande",
        "address": "Av. Kabah, SM 64",
        "reference": "frente al Oxxo",
    }
    slots, _ = await run_action(REPORT, asked("confirmation", answer, slots=full))
    assert slots["confirmation"] == value
    assert slots["requested_slot"] is None


async def test_confirmation_correct_asks_again():
    full = {
        "category": "bache",
        "description": "bache grande",
        "address": "Av. Kabah, SM 64",
        "reference": "frente al Oxxo",
    }
    slots, replies = await run_action(REPORT, asked("confirmation", "2", slots=full))
    assert slots["description"] is None
    assert slots["address"] is None
    assert slots["requested_slot"] == "description"
    assert replies == ["utter_correct_request"]


async def test_complaint_asks_anonymous_before_confirmation():
    full = {
        "category": "ruido",
        "description": "fiesta con bocinas toda la noche",
        "address": "calle Jaguar, SM 21",
    }
    tracker = asked("reference", "no", slots=full, form="complaint_form")
    slots, _ = await run_action(ValidateComplaintForm(), tracker)
    assert slots["reference"] == "Sin referencia"
    assert slots["requested_slot"] == "anonymous"

    tracker = asked(
        "anonymous", "1", slots={**full, "reference": "no"}, form="complaint_form"
    )
    slots, _ = await run_action(ValidateComplaintForm(), tracker)
    assert slots["anonymous"] is True


async def test_procedure_from_first_message_explains_it():
    tracker = make_tracker(
        text="quiero sacar mi licencia de funcionamiento",
        intent="request_procedure",
        active_loop="procedure_form",
    )
    slots, replies = await run_action(ValidateProcedureForm(), tracker)
    assert slots["procedure"] == "licencia_funcionamiento"
    assert "Requisitos" in joined_replies(replies)
    assert "Costo" in joined_replies(replies)
    assert slots["requested_slot"] == "wants_contact"


async def test_procedure_without_contact_ends_form():
    tracker = asked(
        "wants_contact",
        "2",
        slots={"procedure": "predial"},
        form="procedure_form",
    )
    slots, _ = await run_action(ValidateProcedureForm(), tracker)
    assert slots["wants_contact"] is False
    assert slots["requested_slot"] is None


async def test_advice_topic_from_first_message():
    tracker = make_tracker(
        text="necesito un abogado para mi divorcio",
        intent="request_advice",
        active_loop="advice_form",
    )
    slots, _ = await run_action(ValidateAdviceForm(), tracker)
    assert slots["advice_topic"] == "juridica"
    assert slots["description"] == "necesito un abogado para mi divorcio"
    # Groups change an advice request's priority, so the optional question
    # about them comes before the confirmation.
    assert slots["requested_slot"] == "group_answer"


async def test_information_answered_from_catalog():
    tracker = make_tracker(
        text="a q hora abren el palacio municipal",
        intent="ask_information",
        active_loop="information_form",
    )
    slots, replies = await run_action(ValidateInformationForm(), tracker)
    assert slots["question"]
    assert slots["requested_slot"] is None
    assert replies and replies[0] != "utter_invalid_question"


async def test_information_about_named_agency():
    tracker = make_tracker(
        text="me pasas el telefono de aguakan",
        intent="ask_information",
        active_loop="information_form",
    )
    slots, replies = await run_action(ValidateInformationForm(), tracker)
    assert slots["requested_slot"] is None
    assert "Aguakan" in joined_replies(replies)
    assert "998 881 2400" in joined_replies(replies)


async def test_information_unknown_offers_folio():
    tracker = make_tracker(
        text="cuando van a pavimentar el callejon atras de mi casa en la 227",
        intent="ask_information",
        active_loop="information_form",
    )
    slots, replies = await run_action(ValidateInformationForm(), tracker)
    assert slots["requested_slot"] == "wants_contact"
    assert "No tengo esa respuesta" in joined_replies(replies)


async def test_violence_story_is_an_answer_not_an_interruption():
    tracker = make_tracker(
        text="mi pareja me pega",
        intent="report_violence",
        slots={"requested_slot": "description", "in_danger": False},
        active_loop="violence_form",
    )
    slots, _ = await run_action(ValidateViolenceForm(), tracker)
    assert slots["description"] == "mi pareja me pega"


async def test_violence_in_danger_gets_911():
    tracker = make_tracker(
        text="1",
        intent="report_issue",
        slots={"requested_slot": "in_danger"},
        active_loop="violence_form",
    )
    slots, replies = await run_action(ValidateViolenceForm(), tracker)
    assert slots["in_danger"] is True
    assert "utter_in_danger_now" in replies


async def test_violence_place_can_be_skipped():
    tracker = make_tracker(
        text="prefiero no decir",
        slots={"requested_slot": "address", "in_danger": False, "description": "x y"},
        active_loop="violence_form",
    )
    slots, _ = await run_action(ValidateViolenceForm(), tracker)
    assert slots["address"] == "No lo indicó"


async def test_status_mistyped_folio_names_check_digit():
    folio = format_folio(2026, 77)
    mistyped = folio[:-1] + str((int(folio[-1]) + 1) % 10)
    tracker = make_tracker(
        text=mistyped, slots={"requested_slot": "folio"}, active_loop="status_form"
    )
    slots, replies = await run_action(ValidateStatusForm(), tracker)
    assert slots["folio"] is None
    assert replies == ["utter_invalid_folio_check_digit"]


async def test_status_folio_without_prefix(database):
    folio = format_folio(2026, 77)
    tracker = make_tracker(
        text=folio[4:].replace("-", " "),
        slots={"requested_slot": "folio"},
        active_loop="status_form",
    )
    slots, _ = await run_action(ValidateStatusForm(), tracker)
    assert slots["folio"] == folio


async def test_emergency_is_not_a_wrong_answer():
    tracker = asked(
        "address", "AUXILIO hay un choque", intent="emergency", confidence=0.95
    )
    slots, replies = await run_action(REPORT, tracker)
    assert replies == ["utter_emergency"]
    assert slots.get("invalid_attempts", 0) == 0


async def test_category_words_also_keep_description():
    tracker = asked("category", "hay un bache enorme q ya se llevo 2 llantas")
    slots, _ = await run_action(REPORT, tracker)
    assert slots["category"] == "bache"
    assert slots["description"] == "hay un bache enorme q ya se llevo 2 llantas"
    assert slots["requested_slot"] == "address"


async def test_violence_cancel_closes_without_dropping():
    tracker = make_tracker(
        text="cancelar",
        intent="cancel",
        slots={"requested_slot": "address", "in_danger": False, "description": "x y"},
        active_loop="violence_form",
    )
    slots, _ = await run_action(ValidateViolenceForm(), tracker)
    assert slots["way_out"] == "exit"
    assert slots["requested_slot"] is None


async def test_place_reference_gets_no_911_warning():
    tracker = asked(
        "reference", "frente a la farmacia", intent="emergency", confidence=0.95
    )
    slots, replies = await run_action(REPORT, tracker)
    assert replies == []
    assert slots["reference"] == "frente a la farmacia"
