"""The WhatsApp channel served by Sanic, with a scripted agent and fake Twilio.

These tests run the channel's real routes, background turns, downloads and
Messages API calls on 127.0.0.1. Only Rasa's agent is replaced, so that each
case controls exactly what the bot sends.
"""

import asyncio
import logging
import time
from pathlib import Path

import pytest

from twilio_requests import (
    TWILIO_NUMBER,
    inbound_form,
    new_message_sid,
    signed_request,
    status_form,
)

pytestmark = pytest.mark.asyncio

CITIZEN = "+5219981234567"
CITIZEN_ID = "+529981234567"
CITIZEN_ADDRESS = f"whatsapp:{CITIZEN}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048


def reply_with(*responses):
    """Make an agent reply that sends the same responses every turn."""

    async def reply(message):
        return [dict(response) for response in responses]

    return reply


async def echo(message):
    return [{"text": f"Recibí: {message.text}"}]


# --- acknowledging and text ------------------------------------------------


async def test_text_reaches_agent_as_written(channel_harness):
    harness = channel_harness
    harness.agent.reply = reply_with({"text": "¡Hola! ¿En qué te ayudo?"})
    sid = new_message_sid()

    form = inbound_form(CITIZEN, "¡Hola! ¿Hay baches?", message_sid=sid)
    response = await harness.post(harness.webhook_url, form)
    await harness.wait_for_turns(1)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    message = harness.agent.received[0]
    assert message.text == "¡Hola! ¿Hay baches?"
    assert message.sender_id == CITIZEN_ID
    assert message.input_channel == "whatsapp"
    assert message.message_id == sid
    assert message.metadata == {
        "channel": "whatsapp",
        "message_sid": sid,
        "profile_name": "Ana López",
        "wa_id": "5219981234567",
        "media": [],
        "location": None,
    }
    assert [m.body for m in sent] == ["¡Hola! ¿En qué te ayudo?"]
    assert sent[0].from_ == TWILIO_NUMBER
    assert sent[0].status_callback == f"{harness.base_url}/webhooks/whatsapp/status"


async def test_both_mexican_forms_are_one_sender(channel_harness):
    harness = channel_harness
    await harness.post(harness.webhook_url, inbound_form("+5219981234567", "hola"))
    await harness.post(harness.webhook_url, inbound_form("+529981234567", "otra vez"))
    await harness.wait_for_turns(2)

    assert {m.sender_id for m in harness.agent.received} == {CITIZEN_ID}


async def test_webhook_answers_before_slow_turn(channel_harness):
    harness = channel_harness

    async def slow(message):
        await asyncio.sleep(3)
        return [{"text": "Listo"}]

    harness.agent.reply = slow
    started = time.monotonic()
    response = await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    elapsed = time.monotonic() - started
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 10)

    assert response.status == 200
    assert elapsed < 1.0
    assert [m.body for m in sent] == ["Listo"]


async def test_turns_of_one_sender_run_in_order(channel_harness):
    harness = channel_harness

    async def slower_first(message):
        # The first turn is the slowest; order must still hold.
        number = int(message.text)
        await asyncio.sleep(0.3 - number * 0.05)
        return [{"text": f"respuesta {number}"}]

    harness.agent.reply = slower_first
    for number in range(5):
        await harness.post(harness.webhook_url, inbound_form(CITIZEN, str(number)))
    await harness.wait_for_turns(5)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 5, 5)

    assert [m.text for m in harness.agent.received] == ["0", "1", "2", "3", "4"]
    assert [m.body for m in sent] == [f"respuesta {n}" for n in range(5)]


async def test_senders_run_concurrently(make_harness):
    harness = await make_harness(max_concurrent_turns="4")

    async def slow(message):
        await asyncio.sleep(1.0)
        return []

    harness.agent.reply = slow
    started = time.monotonic()
    for number in range(4):
        sender = f"+52199812345{number:02d}"
        await harness.post(harness.webhook_url, inbound_form(sender, "hola"))
    await harness.wait_for_turns(4)

    assert time.monotonic() - started < 1.8


async def test_concurrent_turns_are_limited(make_harness):
    harness = await make_harness(max_concurrent_turns="1")
    running = []
    overlaps = []

    async def exclusive(message):
        running.append(message.sender_id)
        overlaps.append(len(running))
        await asyncio.sleep(0.2)
        running.remove(message.sender_id)
        return []

    harness.agent.reply = exclusive
    for number in range(3):
        sender = f"+52199812345{number:02d}"
        await harness.post(harness.webhook_url, inbound_form(sender, "hola"))
    await harness.wait_for_turns(3)

    assert overlaps == [1, 1, 1]


async def test_duplicate_message_sid_is_one_turn(channel_harness):
    harness = channel_harness
    form = inbound_form(CITIZEN, "se fue la luz", message_sid=new_message_sid())

    responses = await asyncio.gather(
        *(harness.post(harness.webhook_url, form) for _ in range(3))
    )
    await harness.post(harness.webhook_url, form)
    await harness.wait_for_turns(1)
    await asyncio.sleep(0.3)

    assert [r.status for r in responses] == [200, 200, 200]
    assert len(harness.agent.received) == 1


async def test_turn_failure_sends_apology(channel_harness, caplog):
    harness = channel_harness

    async def broken(message):
        raise RuntimeError("action server unreachable")

    harness.agent.reply = broken
    response = await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    assert response.status == 200
    assert "Perdón" in sent[0].body
    assert "failed" in caplog.text


async def test_info_logs_hide_number_and_body(channel_harness, caplog):
    caplog.set_level(logging.INFO, logger="channels")
    harness = channel_harness
    harness.agent.reply = echo
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "mi secreto 12345"))
    await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    assert "Received" in caplog.text
    assert "9981234567" not in caplog.text
    assert "mi secreto" not in caplog.text


# --- signatures --------------------------------------------------------------


async def test_bad_signature_is_rejected(channel_harness, caplog):
    harness = channel_harness
    form = inbound_form(CITIZEN, "texto privado del ciudadano")
    response = await harness.post(harness.webhook_url, form, auth_token="wrong")
    await asyncio.sleep(0.2)

    assert response.status == 403
    assert harness.agent.received == []
    assert "X-Twilio-Signature" in caplog.text
    assert "texto privado" not in caplog.text


async def test_missing_signature_is_rejected(channel_harness):
    harness = channel_harness
    body, headers = signed_request(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    del headers["X-Twilio-Signature"]
    async with harness.http.post(harness.webhook_url, data=body, headers=headers) as r:
        status = r.status

    assert status == 403
    assert harness.agent.received == []


async def test_tampered_body_is_rejected(channel_harness):
    harness = channel_harness
    form = inbound_form(CITIZEN, "hola")
    body, headers = signed_request(harness.webhook_url, form)
    tampered = body.replace(b"Body=hola", b"Body=adios")
    async with harness.http.post(
        harness.webhook_url, data=tampered, headers=headers
    ) as response:
        status = response.status

    assert status == 403


async def test_signature_for_other_url_is_rejected(channel_harness):
    harness = channel_harness
    form = inbound_form(CITIZEN, "hola")
    body, headers = signed_request("https://elsewhere.example/webhook", form)
    async with harness.http.post(
        harness.webhook_url, data=body, headers=headers
    ) as response:
        status = response.status

    assert status == 403


async def test_forwarded_headers_rebuild_public_url(make_harness):
    harness = await make_harness(public_base_url="")
    public_url = "https://abc123.ngrok.app/webhooks/whatsapp/webhook"
    body, headers = signed_request(public_url, inbound_form(CITIZEN, "hola"))
    headers["X-Forwarded-Proto"] = "https"
    headers["X-Forwarded-Host"] = "abc123.ngrok.app"
    async with harness.http.post(harness.webhook_url, data=body, headers=headers) as r:
        status = r.status
    await harness.wait_for_turns(1)

    assert status == 200


async def test_validation_off_accepts_unsigned_and_warns(make_harness, caplog):
    caplog.set_level(logging.WARNING)
    harness = await make_harness(validate_signature="false")
    body, headers = signed_request(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    del headers["X-Twilio-Signature"]
    async with harness.http.post(harness.webhook_url, data=body, headers=headers) as r:
        status = r.status
    await harness.wait_for_turns(1)

    assert status == 200
    assert "signature validation is OFF" in caplog.text


async def test_signed_request_without_sid_is_bad_request(channel_harness):
    harness = channel_harness
    form = [(k, v) for k, v in inbound_form(CITIZEN, "hola") if "MessageSid" not in k]
    response = await harness.post(harness.webhook_url, form)

    assert response.status == 400
    assert harness.agent.received == []


# --- media and location ------------------------------------------------------


async def test_media_only_message_is_a_turn(channel_harness):
    harness = channel_harness
    url = harness.fake.add_media("ME1", PNG, "image/png")
    sid = new_message_sid()
    await harness.post(
        harness.webhook_url,
        inbound_form(CITIZEN, "", message_sid=sid, media=[(url, "image/png")]),
    )
    await harness.wait_for_turns(1)

    message = harness.agent.received[0]
    assert message.text == ""
    [item] = message.metadata["media"]
    assert item["url"] == url
    assert item["content_type"] == "image/png"
    assert item["size"] == len(PNG)
    assert item["rejected"] is None
    assert Path(item["path"]).read_bytes() == PNG
    assert Path(item["path"]).name.startswith(sid)


async def test_media_with_caption_keeps_text(channel_harness):
    harness = channel_harness
    photo = harness.fake.add_media("ME2", PNG, "image/jpeg")
    voice = harness.fake.add_media("ME3", b"OggS" + b"\x01" * 500, "audio/ogg")
    await harness.post(
        harness.webhook_url,
        inbound_form(
            CITIZEN,
            "Bache enorme en la SM 21",
            media=[(photo, "image/jpeg"), (voice, "audio/ogg; codecs=opus")],
        ),
    )
    await harness.wait_for_turns(1)

    message = harness.agent.received[0]
    assert message.text == "Bache enorme en la SM 21"
    paths = [item["path"] for item in message.metadata["media"]]
    assert [Path(p).suffix for p in paths] == [".jpg", ".ogg"]
    assert all(Path(p).is_file() for p in paths)


async def test_unsupported_media_is_recorded_and_answered(channel_harness):
    harness = channel_harness
    url = harness.fake.add_media("ME4", b"PK\x03\x04", "application/zip")
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "", media=[(url, "application/zip")])
    )
    await harness.wait_for_turns(1)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] == "unsupported_type"
    assert item["path"] is None
    assert harness.fake.state.media_requests == 0
    assert "tipo de archivo" in sent[0].body


async def test_too_large_image_is_refused(channel_harness, tmp_path):
    harness = channel_harness
    big = b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024 + 10)
    url = harness.fake.add_media("ME5", big, "image/jpeg")
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "", media=[(url, "image/jpeg")])
    )
    await harness.wait_for_turns(1)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] == "too_large"
    assert item["size"] == len(big)
    assert item["path"] is None
    assert "pesado" in sent[0].body
    assert list((tmp_path / "media").glob("*")) == []


async def test_too_large_without_length_leaves_no_file(channel_harness, tmp_path):
    harness = channel_harness
    big = b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024 + 10)
    url = harness.fake.add_media("ME6", big, "image/jpeg", chunked=True)
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "foto", media=[(url, "image/jpeg")])
    )
    await harness.wait_for_turns(1)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] == "too_large"
    assert list((tmp_path / "media").glob("*")) == []


async def test_video_within_limit_is_saved(channel_harness):
    harness = channel_harness
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (6 * 1024 * 1024)
    url = harness.fake.add_media("ME7", video, "video/mp4", chunked=True)
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "", media=[(url, "video/mp4")])
    )
    await harness.wait_for_turns(1)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] is None
    assert item["size"] == len(video)


async def test_media_from_other_host_is_not_fetched(channel_harness):
    harness = channel_harness
    url = "http://127.0.0.2:9/media/ME8"
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "", media=[(url, "image/png")])
    )
    await harness.wait_for_turns(1)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] == "untrusted_url"


async def test_missing_media_is_download_failure(channel_harness):
    harness = channel_harness
    url = f"{harness.fake.base_url}/media/does-not-exist"
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "", media=[(url, "image/png")])
    )
    await harness.wait_for_turns(1)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    [item] = harness.agent.received[0].metadata["media"]
    assert item["rejected"] == "download_failed"
    assert "descargar" in sent[0].body


async def test_location_reaches_metadata(channel_harness):
    harness = channel_harness
    location = {
        "Latitude": "21.1619",
        "Longitude": "-86.8515",
        "Address": "Av. Tulum 5, SM 5, Cancún",
        "Label": "Palacio Municipal",
    }
    form = inbound_form(CITIZEN, "", location=location)
    await harness.post(harness.webhook_url, form)
    await harness.wait_for_turns(1)

    message = harness.agent.received[0]
    assert message.text == ""
    assert message.metadata["location"] == {
        "latitude": 21.1619,
        "longitude": -86.8515,
        "address": "Av. Tulum 5, SM 5, Cancún",
        "label": "Palacio Municipal",
    }


# --- unusual text ------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ("", ""),
        ("   \n\t ", ""),
        ("👍🏽🙏", "👍🏽🙏"),
        ("ho\x00la\x1b\u200b", "hola"),
    ],
)
async def test_unusual_text_is_a_normal_turn(channel_harness, body, expected):
    harness = channel_harness
    harness.agent.reply = reply_with({"text": "¿Me cuentas un poco más?"})
    response = await harness.post(harness.webhook_url, inbound_form(CITIZEN, body))
    await harness.wait_for_turns(1)
    sent = await harness.fake.wait_for_messages(CITIZEN_ADDRESS, 1, 5)

    assert response.status == 200
    assert harness.agent.received[0].text == expected
    assert len(sent) == 1


async def test_long_text_truncated_for_nlu_kept_in_metadata(channel_harness):
    harness = channel_harness
    text = " ".join(["El camión de la basura no pasa por mi calle."] * 150)
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, text))
    await harness.wait_for_turns(1)

    message = harness.agent.received[0]
    assert len(text) > 4000
    assert len(message.text) <= 4000
    assert text.startswith(message.text)
    assert message.metadata["full_text"] == text


# --- outbound ----------------------------------------------------------------


async def test_long_reply_is_split(channel_harness):
    harness = channel_harness
    lines = [f"{n}. Oficina de atención ciudadana número {n}." for n in range(90)]
    reply = "\n".join(lines)
    harness.agent.reply = reply_with({"text": reply})
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "oficinas"))
    await harness.wait_for_turns(1)
    sent = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert len(reply) > 3200
    assert len(sent) == 3
    assert all(len(m.body) <= 1600 for m in sent)
    assert "\n".join(m.body for m in sent) == reply


async def test_buttons_become_numbered_text_and_map_back(channel_harness):
    harness = channel_harness
    buttons = [
        {"title": "Reportar un problema", "payload": "/report_issue"},
        {"title": "Consultar mi folio", "payload": "/check_case"},
    ]

    async def menu(message):
        if message.text.startswith("/"):
            return [{"text": "Va"}]
        return [{"text": "¿Qué quieres hacer?", "buttons": buttons}]

    harness.agent.reply = menu
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "menú"))
    await harness.wait_for_turns(1)
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "2"))
    await harness.wait_for_turns(2)
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    await harness.wait_for_turns(3)
    form = inbound_form(CITIZEN, "reportar un problema")
    await harness.post(harness.webhook_url, form)
    await harness.wait_for_turns(4)
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "1"))
    await harness.wait_for_turns(5)
    sent = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert sent[0].body == (
        "¿Qué quieres hacer?\n\n1. Reportar un problema\n2. Consultar mi folio"
    )
    texts = [m.text for m in harness.agent.received]
    assert texts == ["menú", "/check_case", "hola", "/report_issue", "1"]


async def test_image_reply_is_media_message(channel_harness):
    harness = channel_harness
    image = "https://cancun.gob.mx/mapa.png"
    harness.agent.reply = reply_with({"text": "Aquí está el mapa", "image": image})
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "mapa"))
    await harness.wait_for_turns(1)
    sent = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert [m.body for m in sent] == ["Aquí está el mapa", None]
    assert sent[1].media_urls == [image]


async def test_custom_template_payload(channel_harness):
    harness = channel_harness
    custom = {"content_sid": "HX" + "0" * 32, "content_variables": {"1": "BJ-0042"}}
    harness.agent.reply = reply_with({"custom": custom})
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "folio"))
    await harness.wait_for_turns(1)
    [sent] = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert sent.extra["ContentSid"] == custom["content_sid"]
    assert sent.extra["ContentVariables"] == '{"1": "BJ-0042"}'


async def test_transient_errors_are_retried(channel_harness, caplog):
    harness = channel_harness
    harness.agent.reply = reply_with({"text": "Listo"})
    harness.fake.fail_next(503, 20500, count=2)
    harness.fake.fail_next(429, 20429, retry_after="0")
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    await harness.wait_for_turns(1)
    sent = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert [m.body for m in sent] == ["Listo"]
    assert harness.fake.state.attempts == 4
    assert "retry 3 of 3" in caplog.text


async def test_permanent_error_is_logged_not_retried(channel_harness, caplog):
    harness = channel_harness
    harness.agent.reply = reply_with({"text": "Uno"}, {"text": "Dos"})
    harness.fake.fail_next(400, 63016)
    sid = new_message_sid()
    await harness.post(
        harness.webhook_url, inbound_form(CITIZEN, "hola", message_sid=sid)
    )
    await harness.wait_for_turns(1)
    sent = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert [m.body for m in sent] == ["Dos"]
    assert harness.fake.state.attempts == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "63016" in errors[0].getMessage()
    assert sid in errors[0].getMessage()
    assert "9981234567" not in caplog.text
    assert "Uno" not in caplog.text


async def test_api_unreachable_gives_up(make_harness, caplog):
    harness = await make_harness(api_base_url="http://127.0.0.1:9")
    harness.agent.reply = reply_with({"text": "Listo"})
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    await harness.wait_for_turns(1)

    assert "failed after 4 attempt(s)" in caplog.text


async def test_output_channel_for_api_calls(channel_harness):
    harness = channel_harness
    output = harness.channel.get_output_channel()
    await output.send_response(CITIZEN_ID, {"text": "¡Tu reporte avanzó!"})
    await harness.channel.wait_idle(5)
    [before_writing] = harness.fake.messages_to(f"whatsapp:{CITIZEN_ID}")

    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    await harness.wait_for_turns(1)
    await output.send_response(CITIZEN_ID, {"text": "Tu folio se cerró."})
    await harness.channel.wait_idle(5)
    [after_writing] = harness.fake.messages_to(CITIZEN_ADDRESS)

    assert before_writing.body == "¡Tu reporte avanzó!"
    assert after_writing.body == "Tu folio se cerró."


# --- delivery status ---------------------------------------------------------


async def test_failed_delivery_is_counted(channel_harness, caplog):
    harness = channel_harness
    failed_sid = new_message_sid()
    await harness.post(
        harness.status_url, status_form(failed_sid, "undelivered", CITIZEN, "63024")
    )
    failed = status_form(new_message_sid(), "failed", CITIZEN, "63016")
    await harness.post(harness.status_url, failed)
    delivered = status_form(new_message_sid(), "delivered", CITIZEN)
    await harness.post(harness.status_url, delivered)
    async with harness.http.get(harness.status_url) as response:
        counts = await response.json()

    assert counts == {"undelivered": 1, "failed": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(failed_sid in w and "63024" in w for w in warnings)


async def test_status_callback_needs_signature(channel_harness):
    harness = channel_harness
    form = status_form(new_message_sid(), "failed", CITIZEN, "63016")
    response = await harness.post(harness.status_url, form, auth_token="wrong")
    async with harness.http.get(harness.status_url) as counts_response:
        counts = await counts_response.json()

    assert response.status == 403
    assert counts == {}


async def test_turn_without_text_skips_nlu(channel_harness):
    harness = channel_harness
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "  "))
    await harness.post(harness.webhook_url, inbound_form(CITIZEN, "hola"))
    await harness.wait_for_turns(2)
    without_text, with_text = harness.agent.received

    assert without_text.parse_data == {
        "text": "",
        "intent": {"name": "nlu_fallback", "confidence": 1.0},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 1.0}],
        "entities": [],
    }
    assert with_text.parse_data is None
