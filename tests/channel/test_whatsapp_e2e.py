"""End to end: signed Twilio webhooks into `rasa run` with the project's model.

The Rasa server, the project's action server and the fake Twilio API all run
on 127.0.0.1. Each test writes from its own phone number, so conversations
do not mix. The bot's wording belongs to the model, so the tests check what
the channel guarantees: what Rasa logged, and what was sent back.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from twilio_requests import TWILIO_NUMBER, inbound_form, new_message_sid, status_form

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096
OUR_METADATA_KEYS = ("channel", "message_sid", "profile_name", "wa_id", "media")

_numbers = iter(range(10_000))


def new_citizen() -> Dict[str, str]:
    """Return a fresh citizen: WhatsApp's number, stored id and address."""
    suffix = f"{int(time.time()) % 1000:03d}{next(_numbers):04d}"
    return {
        "whatsapp": f"+521998{suffix}",
        "id": f"+52998{suffix}",
        "address": f"whatsapp:+521998{suffix}",
    }


def post_and_wait(e2e, citizen, form) -> Dict[str, Any]:
    """Post a signed webhook, check the quick response, return the user event."""
    sid = dict(form)["MessageSid"]
    started = time.monotonic()
    response = e2e.post(e2e.webhook_url, form)
    elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    assert elapsed < 2.0
    return e2e.wait_for_user_event(citizen["id"], sid)


def replies(e2e, citizen) -> List[Any]:
    """Wait for the bot's replies to settle and return them.

    Also checks that no turn of this citizen failed inside Rasa.
    """
    sent = e2e.twilio.wait_for_quiet(citizen["address"], quiet_seconds=2.0)
    assert _turn_errors(e2e) == []
    return sent


def our_metadata(event: Dict[str, Any]) -> Dict[str, Any]:
    # Rasa adds model_id and assistant_id to the metadata it stores.
    metadata = event.get("metadata") or {}
    return {k: v for k, v in metadata.items() if k not in ("model_id", "assistant_id")}


def test_plain_text_turn(e2e):
    citizen = new_citizen()
    form = inbound_form(citizen["whatsapp"], "Hola, quiero reportar un bache")
    event = post_and_wait(e2e, citizen, form)
    sent = replies(e2e, citizen)

    assert event["text"] == "Hola, quiero reportar un bache"
    assert event["input_channel"] == "whatsapp"
    assert our_metadata(event) == {
        "channel": "whatsapp",
        "message_sid": dict(form)["MessageSid"],
        "profile_name": "Ana López",
        "wa_id": citizen["whatsapp"].lstrip("+"),
        "media": [],
        "location": None,
    }
    assert sent, "the bot sent no reply"
    assert all(m.from_ == TWILIO_NUMBER for m in sent)
    assert all(m.body is None or len(m.body) <= 1600 for m in sent)


def test_inverted_exclamation_kept_both_ways(e2e):
    citizen = new_citizen()
    event = post_and_wait(
        e2e, citizen, inbound_form(citizen["whatsapp"], "¡Hola! ¿Me ayudas?")
    )
    replies(e2e, citizen)
    domain = requests.get(
        f"{e2e.stack.rasa_url}/domain",
        headers={"Accept": "application/json"},
        timeout=15,
    ).json()
    with_mark = [
        name
        for name, variants in (domain.get("responses") or {}).items()
        if any("¡" in (variant.get("text") or "") for variant in variants)
    ]
    assert with_mark, "the model's domain has no response with ¡ to send"
    before = len(e2e.twilio.fake.messages_to(citizen["address"]))
    executed = e2e.execute(citizen["id"], sorted(with_mark)[0])
    sent = e2e.twilio.wait_for_messages(citizen["address"], before + 1, 30)

    assert event["text"] == "¡Hola! ¿Me ayudas?"
    assert executed.status_code == 200, executed.text
    new_bodies = [m.body or "" for m in sent[before:]]
    assert any("¡" in body for body in new_bodies)
    assert all("@" not in body for body in new_bodies)


def test_media_only_message(e2e):
    citizen = new_citizen()
    url = e2e.twilio.fake.add_media("ME" + new_message_sid()[2:], PNG, "image/png")
    form = inbound_form(citizen["whatsapp"], "", media=[(url, "image/png")])
    event = post_and_wait(e2e, citizen, form)
    sent = replies(e2e, citizen)

    assert not event["text"]
    [item] = our_metadata(event)["media"]
    assert item["rejected"] is None
    assert item["size"] == len(PNG)
    assert Path(item["path"]).read_bytes() == PNG
    assert sent, "the bot sent no reply to a photo without text"


def test_media_with_caption(e2e):
    citizen = new_citizen()
    url = e2e.twilio.fake.add_media("ME" + new_message_sid()[2:], PNG, "image/jpeg")
    caption = "Hay un bache enorme en la avenida Kabah"
    form = inbound_form(citizen["whatsapp"], caption, media=[(url, "image/jpeg")])
    event = post_and_wait(e2e, citizen, form)
    sent = replies(e2e, citizen)

    assert event["text"] == caption
    [item] = our_metadata(event)["media"]
    assert Path(item["path"]).is_file()
    assert sent


def test_unsupported_media_gets_spanish_reply(e2e):
    citizen = new_citizen()
    url = e2e.twilio.fake.add_media(
        "ME" + new_message_sid()[2:], b"PK\x03\x04", "application/zip"
    )
    form = inbound_form(citizen["whatsapp"], "", media=[(url, "application/zip")])
    event = post_and_wait(e2e, citizen, form)
    sent = replies(e2e, citizen)

    [item] = our_metadata(event)["media"]
    assert item["rejected"] == "unsupported_type"
    assert "No puedo abrir ese tipo de archivo" in sent[0].body


def test_shared_location(e2e):
    citizen = new_citizen()
    location = {
        "Latitude": "21.1619",
        "Longitude": "-86.8515",
        "Address": "Av. Tulum 5, Cancún",
        "Label": "Palacio Municipal",
    }
    form = inbound_form(citizen["whatsapp"], "", location=location)
    event = post_and_wait(e2e, citizen, form)
    sent = replies(e2e, citizen)

    assert our_metadata(event)["location"] == {
        "latitude": 21.1619,
        "longitude": -86.8515,
        "address": "Av. Tulum 5, Cancún",
        "label": "Palacio Municipal",
    }
    assert sent, "the bot sent no reply to a shared location"


def test_duplicate_message_sid_one_turn(e2e):
    citizen = new_citizen()
    form = inbound_form(citizen["whatsapp"], "Hay basura en el parque")
    sid = dict(form)["MessageSid"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        responses = list(pool.map(lambda _: e2e.post(e2e.webhook_url, form), range(3)))
    e2e.wait_for_user_event(citizen["id"], sid)
    replies(e2e, citizen)
    again = e2e.post(e2e.webhook_url, form)
    time.sleep(1.0)

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert again.status_code == 200
    matching = [e for e in e2e.user_events(citizen["id"]) if e["message_id"] == sid]
    assert len(matching) == 1


def test_bad_signature_rejected(e2e):
    citizen = new_citizen()
    form = inbound_form(citizen["whatsapp"], "mensaje con firma falsa 8842")
    response = e2e.post(e2e.webhook_url, form, auth_token="not-the-token")
    time.sleep(1.0)

    assert response.status_code == 403
    assert e2e.user_events(citizen["id"]) == []
    log = e2e.stack.rasa_log_text()
    assert "X-Twilio-Signature" in log
    assert "firma falsa 8842" not in log


@pytest.mark.parametrize(
    "body, logged",
    [
        ("", ""),
        ("   ", ""),
        ("👍👍", "👍👍"),
        ("hola\x00\x07 qué tal", "hola qué tal"),
        ("x" * 20, "x" * 20),
    ],
    ids=["empty", "whitespace", "emoji", "control", "nonsense"],
)
def test_unusual_text_gets_reply(e2e, body, logged):
    citizen = new_citizen()
    event = post_and_wait(e2e, citizen, inbound_form(citizen["whatsapp"], body))
    sent = replies(e2e, citizen)

    assert (event["text"] or "") == logged
    assert sent, f"the bot sent no reply to {body!r}"


def test_long_message_truncated_for_nlu(e2e):
    citizen = new_citizen()
    sentence = "El camión de la basura no pasa por mi calle desde hace días."
    text = " ".join([sentence] * 90)
    event = post_and_wait(e2e, citizen, inbound_form(citizen["whatsapp"], text))
    sent = replies(e2e, citizen)

    assert len(text) > 4000
    assert len(event["text"]) <= 4000
    assert text.startswith(event["text"])
    assert our_metadata(event)["full_text"] == text
    assert sent
    assert all(len(m.body or "") <= 1600 for m in sent)


def test_buttons_as_numbered_text(e2e):
    citizen = new_citizen()
    post_and_wait(e2e, citizen, inbound_form(citizen["whatsapp"], "hola"))
    before = len(replies(e2e, citizen))

    # Rasa's built-in affirmation action sends two buttons, Yes and No, whose
    # payloads are the last intent and /out_of_scope.
    executed = e2e.execute(citizen["id"], "action_default_ask_affirmation")
    sent = e2e.twilio.wait_for_messages(citizen["address"], before + 1, 30)
    menu = sent[before].body
    answer = inbound_form(citizen["whatsapp"], "2")
    event = post_and_wait(e2e, citizen, answer)

    assert executed.status_code == 200, executed.text
    assert len(sent) == before + 1
    assert menu.endswith("\n\n1. Yes\n2. No")
    assert event["text"] == "/out_of_scope"


def test_delivery_status_callback(e2e):
    before = requests.get(e2e.status_url, timeout=15).json()
    sid = new_message_sid()
    form = status_form(sid, "undelivered", "+5219980000000", error_code="63024")
    response = e2e.post(e2e.status_url, form)
    forged = e2e.post(e2e.status_url, form, auth_token="not-the-token")
    after = requests.get(e2e.status_url, timeout=15).json()

    assert response.status_code == 204
    assert forged.status_code == 403
    assert after.get("undelivered", 0) == before.get("undelivered", 0) + 1
    log_lines = [line for line in e2e.stack.rasa_log_text().splitlines() if sid in line]
    assert any("WARNING" in line and "63024" in line for line in log_lines)


def _turn_errors(e2e) -> List[str]:
    return [
        line
        for line in e2e.stack.rasa_log_text().splitlines()
        if "Turn " in line and " failed" in line
    ]
