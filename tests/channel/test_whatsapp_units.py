"""Unit tests of the WhatsApp channel's pure functions."""

from types import SimpleNamespace

import pytest
from multidict import CIMultiDict

from channels.buttons import button_choices, format_buttons, resolve_reply
from channels.inbound import (
    InvalidWebhookRequest,
    build_metadata,
    clean_text,
    parse_inbound,
    truncate_for_nlu,
)
from channels.media import MediaItem, base_content_type, rejection_replies
from channels.splitting import MAX_BODY_CHARS, split_message
from channels.phone import mask_phone, normalize_phone
from channels.settings import InvalidSettingError, WhatsAppSettings
from channels.signature import SignatureChecker, parse_form, public_request_url
from twilio_requests import AUTH_TOKEN, twilio_signature


# --- phone numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "whatsapp:+5219981234567",
        "whatsapp:+529981234567",
        "+52 1 998 123 4567",
        "+52 998 123 4567",
        "998 123 4567",
        "9981234567",
        " WhatsApp:+5219981234567 ",
    ],
)
def test_normalize_phone_mexican_forms(raw):
    assert normalize_phone(raw) == "+529981234567"


def test_normalize_phone_mexico_city_mobile():
    assert normalize_phone("whatsapp:+5215512345678") == "+525512345678"


def test_normalize_phone_other_countries():
    assert normalize_phone("whatsapp:+14155238886") == "+14155238886"
    assert normalize_phone("whatsapp:+447700900123") == "+447700900123"
    # A US number starting with 1 after the country code keeps it.
    assert normalize_phone("+1 212 555 0199") == "+12125550199"


@pytest.mark.parametrize("raw", ["", "whatsapp:", "hola", "whatsapp:+"])
def test_normalize_phone_rejects_non_numbers(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_mask_phone_keeps_last_four_digits():
    assert mask_phone("+529981234567") == "…4567"
    assert mask_phone("whatsapp:+5219981234567") == "…4567"
    assert "998" not in mask_phone("+529981234567")


# --- message splitting -----------------------------------------------------


def _words_of(chunks):
    return " ".join(chunks).split()


def test_split_short_text_is_one_message():
    assert split_message("¡Hola! ¿Cómo estás?") == ["¡Hola! ¿Cómo estás?"]


def test_split_empty_text_is_nothing():
    assert split_message("   \n ") == []


def test_split_prefers_sentence_boundaries():
    sentence = "El bache está frente al Oxxo de la avenida Tulum. "
    text = sentence * 80  # about 4,000 characters
    chunks = split_message(text)
    assert len(chunks) == 3
    for chunk in chunks:
        assert len(chunk) <= MAX_BODY_CHARS
        assert chunk.endswith(".")
    assert _words_of(chunks) == text.split()


def test_split_prefers_line_boundaries():
    lines = [f"{n}. Opción número {n} del menú de trámites" for n in range(1, 120)]
    text = "\n".join(lines)
    chunks = split_message(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= MAX_BODY_CHARS
    assert "\n".join(chunks).splitlines() == lines


def test_split_never_cuts_a_word():
    text = " ".join(f"palabra{n}" for n in range(700))  # no sentence ends
    chunks = split_message(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= MAX_BODY_CHARS
    assert _words_of(chunks) == text.split()


def test_split_cuts_only_a_word_longer_than_limit():
    link = "https://cancun.gob.mx/" + "a" * 2000
    chunks = split_message(f"Tu enlace: {link} gracias")
    assert "".join(chunks).replace(" ", "") == f"Tuenlace:{link}gracias"
    for chunk in chunks:
        assert len(chunk) <= MAX_BODY_CHARS


def test_split_counts_emoji_as_two_units():
    text = "🚧" * 1000  # 1,000 characters, 2,000 UTF-16 units
    chunks = split_message(text)
    assert len(chunks) == 2
    assert "".join(chunks) == text
    for chunk in chunks:
        assert len(chunk.encode("utf-16-le")) // 2 <= MAX_BODY_CHARS


def test_split_exact_limit_is_one_message():
    text = "a" * MAX_BODY_CHARS
    assert split_message(text) == [text]


# --- buttons ---------------------------------------------------------------

BUTTONS = [
    {"title": "Reportar un bache", "payload": "/report_issue"},
    {"title": "Consultar mi folio", "payload": "/check_case"},
    {"title": "Sí"},
]


def test_button_choices_default_payload_is_title():
    assert button_choices(BUTTONS)[2] == {"title": "Sí", "payload": "Sí"}


def test_format_buttons_numbered_lines():
    text = format_buttons("¿Qué quieres hacer?", button_choices(BUTTONS))
    assert text == (
        "¿Qué quieres hacer?\n\n"
        "1. Reportar un bache\n"
        "2. Consultar mi folio\n"
        "3. Sí"
    )


@pytest.mark.parametrize(
    "answer, payload",
    [
        ("1", "/report_issue"),
        (" 2. ", "/check_case"),
        ("2)", "/check_case"),
        ("#2", "/check_case"),
        ("opción 2", "/check_case"),
        ("2️⃣", "/check_case"),
        ("reportar un bache", "/report_issue"),
        ("Consultar mi folio!", "/check_case"),
        ("/check_case", "/check_case"),
        ("si", "Sí"),
        ("SÍ", "Sí"),
    ],
)
def test_resolve_reply_matches(answer, payload):
    assert resolve_reply(answer, button_choices(BUTTONS)) == payload


@pytest.mark.parametrize("answer", ["4", "0", "quiero reportar basura", "", "12"])
def test_resolve_reply_no_match(answer):
    assert resolve_reply(answer, button_choices(BUTTONS)) is None


def test_resolve_reply_without_choices():
    assert resolve_reply("1", []) is None


# --- inbound text and metadata ---------------------------------------------


def test_clean_text_keeps_spanish_marks_and_emoji():
    text = "¡Hola! ¿Me ayudas? 👩‍👧 Ñandú"
    assert clean_text(text) == text


def test_clean_text_removes_control_and_invisible_chars():
    raw = "Hola\x00 mun\u200bdo\x07\r\nsegunda\u202e línea\ufeff"
    assert clean_text(raw) == "Hola mundo\nsegunda línea"


def test_clean_text_whitespace_only_is_empty():
    assert clean_text(" \n\t ") == ""
    assert clean_text(None) == ""


def test_truncate_for_nlu_short_text_unchanged():
    assert truncate_for_nlu("hola") == ("hola", False)


def test_truncate_for_nlu_cuts_at_space():
    text = "palabra " * 1000  # 8,000 characters
    cut, truncated = truncate_for_nlu(text.strip())
    assert truncated
    assert len(cut) <= 4000
    assert cut.endswith("palabra")


def test_parse_inbound_text_message():
    form = parse_form(
        b"MessageSid=SM1&From=whatsapp%3A%2B5219981234567&Body=%C2%A1Hola%21"
        b"&ProfileName=Ana&WaId=5219981234567&NumMedia=0"
    )
    message = parse_inbound(form)
    assert message.message_sid == "SM1"
    assert message.sender_id == "+529981234567"
    assert message.reply_address == "whatsapp:+5219981234567"
    assert message.text == "¡Hola!"
    assert message.profile_name == "Ana"
    assert message.wa_id == "5219981234567"
    assert message.media_references == []
    assert message.location is None


def test_parse_inbound_location():
    form = parse_form(
        b"MessageSid=SM2&From=whatsapp%3A%2B5219981234567&Body="
        b"&Latitude=21.1619&Longitude=-86.8515"
        b"&Address=Av.+Tulum+5&Label=Palacio+Municipal"
    )
    message = parse_inbound(form)
    assert message.text == ""
    assert message.location == {
        "latitude": 21.1619,
        "longitude": -86.8515,
        "address": "Av. Tulum 5",
        "label": "Palacio Municipal",
    }


def test_parse_inbound_invalid_coordinates_ignored():
    form = parse_form(
        b"MessageSid=SM3&From=whatsapp%3A%2B5219981234567&Latitude=abc&Longitude=1"
    )
    assert parse_inbound(form).location is None


def test_parse_inbound_media_references():
    form = parse_form(
        b"MessageSid=SM4&From=whatsapp%3A%2B5219981234567&NumMedia=2"
        b"&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fa&MediaContentType0=image%2Fjpeg"
        b"&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2Fb&MediaContentType1=audio%2Fogg"
    )
    assert parse_inbound(form).media_references == [
        {"url": "https://api.twilio.com/a", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.com/b", "content_type": "audio/ogg"},
    ]


def test_parse_inbound_slash_button_payload_wins():
    form = parse_form(
        b"MessageSid=SM5&From=whatsapp%3A%2B5219981234567&Body=S%C3%AD"
        b"&ButtonText=S%C3%AD&ButtonPayload=%2Faffirm"
    )
    assert parse_inbound(form).text == "/affirm"


@pytest.mark.parametrize(
    "body",
    [b"From=whatsapp%3A%2B5219981234567", b"MessageSid=SM6", b"MessageSid=SM6&From=x"],
)
def test_parse_inbound_rejects_incomplete_requests(body):
    with pytest.raises(InvalidWebhookRequest):
        parse_inbound(parse_form(body))


def test_build_metadata_shape():
    form = parse_form(
        b"MessageSid=SM7&From=whatsapp%3A%2B5219981234567&ProfileName=Ana&WaId=1"
    )
    media = [MediaItem("https://api.twilio.com/x", "image/png", "/m/a.png", 10)]
    metadata = build_metadata(parse_inbound(form), media)
    assert metadata == {
        "channel": "whatsapp",
        "message_sid": "SM7",
        "profile_name": "Ana",
        "wa_id": "1",
        "media": [
            {
                "url": "https://api.twilio.com/x",
                "content_type": "image/png",
                "path": "/m/a.png",
                "size": 10,
                "rejected": None,
            }
        ],
        "location": None,
    }


def test_build_metadata_full_text_only_when_truncated():
    form = parse_form(b"MessageSid=SM8&From=whatsapp%3A%2B5219981234567")
    message = parse_inbound(form)
    assert "full_text" not in build_metadata(message, [])
    assert build_metadata(message, [], full_text="x" * 5000)["full_text"] == "x" * 5000


def test_base_content_type_drops_parameters():
    assert base_content_type("audio/ogg; codecs=opus") == "audio/ogg"
    assert base_content_type(None) == ""


def test_rejection_replies_one_per_reason():
    items = [
        MediaItem("u1", "application/zip", rejected="unsupported_type"),
        MediaItem("u2", "application/x-rar", rejected="unsupported_type"),
        MediaItem("u3", "image/png", rejected="too_large"),
        MediaItem("u4", "image/png", path="/p", size=1),
    ]
    replies = rejection_replies(items)
    assert len(replies) == 2
    assert "tipo de archivo" in replies[0]
    assert "pesado" in replies[1]


# --- signature URL and validation ------------------------------------------


def _request(path="/webhooks/whatsapp/webhook", query="", headers=None):
    headers = CIMultiDict(headers or {"Host": "127.0.0.1:5005"})
    return SimpleNamespace(
        path=path,
        query_string=query,
        headers=headers,
        scheme="http",
        host=headers.get("Host", ""),
    )


def test_public_url_from_setting():
    request = _request()
    url = public_request_url(request, "https://chat.cancun.gob.mx/")
    assert url == "https://chat.cancun.gob.mx/webhooks/whatsapp/webhook"


def test_public_url_from_setting_with_prefix_and_query():
    request = _request(query="a=1")
    url = public_request_url(request, "https://example.mx/chatcun")
    assert url == "https://example.mx/chatcun/webhooks/whatsapp/webhook?a=1"


def test_public_url_from_forwarded_headers():
    request = _request(
        headers={
            "Host": "127.0.0.1:5005",
            "X-Forwarded-Proto": "https, http",
            "X-Forwarded-Host": "abc123.ngrok.app, 10.0.0.2",
        }
    )
    url = public_request_url(request, None)
    assert url == "https://abc123.ngrok.app/webhooks/whatsapp/webhook"


def test_public_url_from_host_header():
    url = public_request_url(_request(), None)
    assert url == "http://127.0.0.1:5005/webhooks/whatsapp/webhook"


def _signed_request(url, body_form, signature=None, headers=None):
    request = _request(headers=headers or {"Host": "127.0.0.1:5005"})
    request.headers["X-Twilio-Signature"] = signature or twilio_signature(
        url, body_form
    )
    return request


FORM = [("Body", ""), ("From", "whatsapp:+5219981234567"), ("MessageSid", "SM9")]
FORM_BYTES = b"Body=&From=whatsapp%3A%2B5219981234567&MessageSid=SM9"


def test_signature_valid_with_blank_parameter():
    url = "https://chat.example.mx/webhooks/whatsapp/webhook"
    checker = SignatureChecker(AUTH_TOKEN, "https://chat.example.mx")
    assert checker.is_valid(_signed_request(url, FORM), parse_form(FORM_BYTES))


def test_signature_invalid_when_body_changed():
    url = "https://chat.example.mx/webhooks/whatsapp/webhook"
    checker = SignatureChecker(AUTH_TOKEN, "https://chat.example.mx")
    tampered = parse_form(FORM_BYTES.replace(b"Body=", b"Body=hola"))
    assert not checker.is_valid(_signed_request(url, FORM), tampered)


def test_signature_invalid_for_other_url():
    url = "https://other.example.mx/webhooks/whatsapp/webhook"
    checker = SignatureChecker(AUTH_TOKEN, "https://chat.example.mx")
    assert not checker.is_valid(_signed_request(url, FORM), parse_form(FORM_BYTES))


def test_signature_invalid_with_other_token():
    url = "https://chat.example.mx/webhooks/whatsapp/webhook"
    checker = SignatureChecker("another-token", "https://chat.example.mx")
    assert not checker.is_valid(_signed_request(url, FORM), parse_form(FORM_BYTES))


def test_signature_missing_is_invalid():
    checker = SignatureChecker(AUTH_TOKEN, "https://chat.example.mx")
    assert not checker.is_valid(_request(), parse_form(FORM_BYTES))


def test_signature_behind_proxy():
    url = "https://abc123.ngrok.app/webhooks/whatsapp/webhook"
    headers = {
        "Host": "127.0.0.1:5005",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "abc123.ngrok.app",
    }
    checker = SignatureChecker(AUTH_TOKEN, None)
    request = _signed_request(url, FORM, headers=headers)
    assert checker.is_valid(request, parse_form(FORM_BYTES))


# --- settings --------------------------------------------------------------


def test_settings_defaults(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = WhatsAppSettings.from_credentials(
        {"account_sid": "AC1", "auth_token": "t", "public_base_url": ""}
    )
    assert settings.twilio_number == "whatsapp:+529987784500"
    assert settings.validate_signature is True
    assert settings.public_base_url is None
    assert settings.api_base_url == "https://api.twilio.com"
    assert str(settings.media_dir) == "var/media"
    assert settings.redis_url is None
    assert settings.max_concurrent_turns == 2


def test_settings_from_substituted_strings(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = WhatsAppSettings.from_credentials(
        {
            "account_sid": "AC1",
            "auth_token": "t",
            "twilio_number": "+529980000000",
            "validate_signature": "false",
            "public_base_url": "https://chat.example.mx/",
            "api_base_url": "http://127.0.0.1:9999",
            "media_dir": "/tmp/media",
            "redis_url": "redis://127.0.0.1:6379/0",
            "max_concurrent_turns": "3",
        }
    )
    assert settings.twilio_number == "whatsapp:+529980000000"
    assert settings.validate_signature is False
    assert settings.public_base_url == "https://chat.example.mx"
    assert settings.api_base_url == "http://127.0.0.1:9999"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.max_concurrent_turns == 3


def test_settings_redis_url_from_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    credentials = {"account_sid": "A", "auth_token": "t"}
    settings = WhatsAppSettings.from_credentials(credentials)
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_settings_repr_hides_secrets():
    settings = WhatsAppSettings.from_credentials(
        {
            "account_sid": "AC1",
            "auth_token": "very-secret",
            "redis_url": "redis://:pw@127.0.0.1:6379/0",
        }
    )
    assert "very-secret" not in repr(settings)
    assert "pw@" not in repr(settings)


@pytest.mark.parametrize(
    "credentials, setting",
    [
        ({"auth_token": "t"}, "account_sid"),
        ({"account_sid": "AC1", "auth_token": ""}, "auth_token"),
        (
            {"account_sid": "A", "auth_token": "t", "validate_signature": "tal vez"},
            "validate_signature",
        ),
        (
            {"account_sid": "A", "auth_token": "t", "public_base_url": "chat.mx"},
            "public_base_url",
        ),
        (
            {"account_sid": "A", "auth_token": "t", "max_concurrent_turns": "0"},
            "max_concurrent_turns",
        ),
    ],
)
def test_settings_invalid(credentials, setting):
    with pytest.raises(InvalidSettingError, match=setting):
        WhatsAppSettings.from_credentials(credentials)
