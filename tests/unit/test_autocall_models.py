"""AutoCall.kz models: every request rule of the document, checked before sending; tolerant answers.

Each rule is tested at its boundary (the last value allowed and the first refused), every phone
pattern with its own prefixes (they differ between lists, inline numbers, flash calls, confirmed
numbers and the public test call), unset fields are left out of the JSON (the server's Laravel rules
have no ``nullable``), and errors name the argument as given (``numbers[3].number``) and the rule.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from airflow_provider_telephony.core.errors import RequestValidationError
from airflow_provider_telephony.models import autocall as m

LIST_PREFIXES = [
    "700",
    "701",
    "702",
    "705",
    "707",
    "708",
    "747",
    "771",
    "775",
    "776",
    "777",
    "778",
    "710",
    "711",
    "712",
    "713",
    "714",
    "715",
    "716",
    "717",
    "718",
    "721",
    "722",
    "723",
    "724",
    "725",
    "726",
    "727",
    "728",
    "729",
    "736",
]
CONFIRMED_PREFIXES = "700 701 702 705 707 708 747 771 775 776 777 778".split()  # noqa: SIM905
#: prefixes no pattern of the document allows
FOREIGN_PREFIXES = ["703", "704", "709", "719", "720", "730", "799", "800"]


def refused(
    model: type[Any], field: str, *, rule: str | None = None, **values: Any
) -> RequestValidationError:
    """Build ``model`` and assert it is refused naming ``field`` (and ``rule`` in the message)."""
    with pytest.raises(RequestValidationError) as err:
        m.build(model, **values)
    assert err.value.field == field, str(err.value)
    if rule is not None:
        assert rule in err.value.rule, str(err.value)
    assert str(err.value).startswith(f"{field}: ")
    return err.value


def no_nulls(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return all(no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True


REGULAR: dict[str, Any] = {"name": "Reminder", "type": "regular", "list_id": [10], "audio_id": [5]}
BULK: dict[str, Any] = {"name": "Promo", "text": "Hello", "list_id": [10], "client_id": "b-1"}


# --- phone patterns -----------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", LIST_PREFIXES)
def test_list_numbers_take_every_listed_prefix(prefix: str) -> None:
    body = m.build(m.CreateListRequest, name="L", numbers=[f"+7{prefix}1234567"]).body()
    assert body["numbers"] == [{"number": f"+7{prefix}1234567"}]


@pytest.mark.parametrize("prefix", ["706", *FOREIGN_PREFIXES])
def test_list_numbers_refuse_other_prefixes_706_included(prefix: str) -> None:
    # 706 is in the flash-call and test-call patterns, not in the list pattern
    refused(
        m.CreateListRequest,
        "numbers[0].number",
        rule="contact lists",
        name="L",
        numbers=[f"+7{prefix}1234567"],
    )


@pytest.mark.parametrize(
    "number",
    ["87011234567", "+7701123456", "+770112345678", "+7 701 123 45 67", "77011234567", "+77011234567\n"],
)
def test_list_numbers_refuse_other_shapes(number: str) -> None:
    refused(m.AppendListRequest, "numbers[0].number", numbers=[number])


def test_list_numbers_must_be_text() -> None:
    refused(
        m.AppendListRequest, "numbers[0].number", rule="must be a string", numbers=[{"number": 77011234567}]
    )


@pytest.mark.parametrize("prefix", [*LIST_PREFIXES, "706"])
def test_flash_call_numbers_take_the_list_prefixes_and_706(prefix: str) -> None:
    assert m.build(m.FlashCallRequest, number=f"+7{prefix}0000000", digits=4).number == f"+7{prefix}0000000"


@pytest.mark.parametrize("prefix", FOREIGN_PREFIXES)
def test_flash_call_numbers_refuse_other_prefixes(prefix: str) -> None:
    refused(m.FlashCallRequest, "number", rule="flash calls", number=f"+7{prefix}0000000", digits=4)


@pytest.mark.parametrize("prefix", CONFIRMED_PREFIXES)
def test_confirmed_numbers_take_their_twelve_prefixes(prefix: str) -> None:
    assert m.build(m.ConfirmNumberRequest, number=f"+7{prefix}0000001").body() == {
        "number": f"+7{prefix}0000001"
    }


@pytest.mark.parametrize("prefix", ["706", "710", "718", "721", "729", "736", *FOREIGN_PREFIXES])
def test_confirmed_numbers_refuse_the_other_list_prefixes(prefix: str) -> None:
    refused(m.ConfirmNumberRequest, "number", rule="confirmed numbers", number=f"+7{prefix}0000001")


@pytest.mark.parametrize("prefix", [*LIST_PREFIXES, "706"])
def test_test_call_phone_is_ten_digits_without_plus7(prefix: str) -> None:
    assert m.build(m.TestCallRequest, phone=f"{prefix}1234567").body() == {"phone": f"{prefix}1234567"}


@pytest.mark.parametrize("phone", ["+77771234567", "77771234567", "777123456", "7031234567", "777123456a"])
def test_test_call_phone_refuses_other_shapes(phone: str) -> None:
    error = refused(m.TestCallRequest, "phone", rule="no +7", phone=phone)
    assert f"got {phone!r}" not in str(error), "the number is masked in the error"


@pytest.mark.parametrize("number", ["+77060000000", "+77030000000", "+79991234567"])
def test_inline_numbers_of_campaigns_and_mailings_are_only_twelve_characters(number: str) -> None:
    # the document gives inline numbers minLength/maxLength 12 and no pattern: the server decides
    assert m.build(m.AutocallSpec, **{**REGULAR, "list_id": [number]}).body()["list_id"] == [
        {"number": number}
    ]
    assert m.build(m.CreateBulkRequest, **{**BULK, "list_id": [number]}).body()["list_id"] == [
        {"number": number}
    ]


@pytest.mark.parametrize("number", ["+7701000000", "+770100000000"])
def test_inline_numbers_of_other_lengths_are_refused(number: str) -> None:
    refused(m.AutocallSpec, "list_id[1].number", rule="12 characters", **{**REGULAR, "list_id": [1, number]})
    refused(m.CreateBulkRequest, "list_id[0].number", rule="12 characters", **{**BULK, "list_id": [number]})


def test_check_number_and_number_re_keep_their_meaning() -> None:
    assert m.check_number("+77060000000") == "+77060000000"
    assert m.NUMBER_RE.fullmatch("+77010000000")
    with pytest.raises(ValueError):
        m.check_number("+77030000000")


# --- sizes at their boundaries ------------------------------------------------------------------
def test_a_list_request_takes_10000_numbers_not_10001() -> None:
    numbers = [f"+7701{i:07d}" for i in range(m.MAX_LIST_NUMBERS)]
    assert len(m.build(m.CreateListRequest, name="Big", numbers=numbers).numbers) == 10_000
    error = refused(
        m.CreateListRequest, "numbers", rule="at most 10000", name="Big", numbers=[*numbers, "+77010000000"]
    )
    assert "+7701" not in str(error), "a list of numbers is never quoted"
    refused(m.AppendListRequest, "numbers", rule="at most 10000", numbers=[*numbers, "+77010000000"])


def test_a_list_request_needs_a_number() -> None:
    refused(m.CreateListRequest, "numbers", rule="at least 1", name="Empty", numbers=[])
    refused(m.CreateListRequest, "numbers", rule="Field required", name="Empty")


@pytest.mark.parametrize("model", [m.AutocallSpec, m.CreateAutocallRequest])
def test_a_campaign_takes_5000_inline_items_not_5001(model: type[Any]) -> None:
    numbers = [f"+7701{i:07d}" for i in range(m.MAX_INLINE_NUMBERS)]
    values = {**REGULAR, "client_id": "c-1", "list_id": numbers}
    assert len(m.build(model, **values).list_id) == 5000
    refused(model, "list_id", rule="at most 5000", **{**values, "list_id": [*numbers, 7]})


def test_a_mailing_takes_5000_inline_items_and_its_calculation_6000() -> None:
    numbers = [f"+7701{i:07d}" for i in range(5000)]
    assert len(m.build(m.CreateBulkRequest, **{**BULK, "list_id": numbers}).list_id) == 5000
    refused(m.CreateBulkRequest, "list_id", rule="at most 5000", **{**BULK, "list_id": [*numbers, 1]})
    more = numbers + [f"+7702{i:07d}" for i in range(1000)]
    assert len(m.build(m.BulkSpec, **{**BULK, "list_id": more}).list_id) == 6000
    refused(m.BulkSpec, "list_id", rule="at most 6000", **{**BULK, "list_id": [*more, 1]})


@pytest.mark.parametrize(
    ("model", "values", "field", "longest"),
    [
        (m.CreateListRequest, {"numbers": ["+77010000000"]}, "name", 40),
        (m.CreateSoundRequest, {"type": "synthesis", "data": [{"text": "x"}]}, "name", 40),
        (m.CreateScenarioRequest, {"data": "{}"}, "name", 40),
        (m.AutocallSpec, {k: v for k, v in REGULAR.items() if k != "name"}, "name", 40),
        (m.BulkSpec, {k: v for k, v in BULK.items() if k != "name"}, "name", 40),
        (
            m.CreateBulkRequest,
            {**{k: v for k, v in BULK.items() if k != "client_id"}, "name": "N"},
            "client_id",
            60,
        ),
        (m.CreateAutocallRequest, REGULAR, "client_id", 60),
        (m.CreateSoundRequest, {"name": "S", "type": "upload", "data": [{"file": "YWJj"}]}, "client_id", 60),
        (m.CreateScenarioRequest, {"name": "S", "data": "{}"}, "client_id", 60),
        (m.CreateListRequest, {"name": "L", "numbers": ["+77010000000"]}, "client_id", 256),
        (m.UpdateListRequest, {}, "client_id", 256),
        (m.AutocallSpec, REGULAR, "callback_url", 256),
        (m.AutocallSpec, REGULAR, "caller_id", 20),
        (m.BulkSpec, {k: v for k, v in BULK.items() if k != "text"}, "text", 1600),
        (m.UpdateSettingsRequest, {}, "visit_card_text", 160),
        (m.UpdateSettingsRequest, {}, "name", 40),
    ],
)
def test_lengths_at_their_boundary(
    model: type[Any], values: dict[str, Any], field: str, longest: int
) -> None:
    assert m.build(model, **{**values, field: "x" * longest}).body()[field] == "x" * longest
    refused(model, field, rule=f"at most {longest} characters", **{**values, field: "x" * (longest + 1)})


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (m.CreateListRequest, {"numbers": ["+77010000000"]}, "name"),
        (m.AutocallSpec, {k: v for k, v in REGULAR.items() if k != "name"}, "name"),
        (m.CreateBulkRequest, {k: v for k, v in BULK.items() if k != "client_id"}, "client_id"),
        (m.BulkSpec, {k: v for k, v in BULK.items() if k != "text"}, "text"),
    ],
)
def test_empty_texts_are_refused(model: type[Any], values: dict[str, Any], field: str) -> None:
    refused(model, field, rule="at least 1 character", **{**values, field: ""})


def test_settings_name_is_2_to_40_characters() -> None:
    refused(m.UpdateSettingsRequest, "name", rule="at least 2", name="J")
    assert m.build(m.UpdateSettingsRequest, name="Jo").body() == {"name": "Jo"}


@pytest.mark.parametrize(
    ("model", "field", "longest", "values"),
    [
        (m.ListContact, "extra", 255, {"number": "+77010000000"}),
        (m.InlineContact, "extra", 255, {"number": "+77010000000"}),
        (m.BulkContact, "extra", 60, {"number": "+77010000000"}),
    ],
)
def test_contact_notes_differ_per_place(
    model: type[Any], field: str, longest: int, values: dict[str, Any]
) -> None:
    assert m.build(model, **values, **{field: "x" * longest}).body()[field] == "x" * longest
    refused(model, field, rule=f"at most {longest}", **values, **{field: "x" * (longest + 1)})


def test_variables_names_and_values() -> None:
    ok = {"a" * 30: "v" * 255, "Debt_2": "15000"}
    assert m.build(m.ListContact, number="+77010000000", variables=ok).body()["variables"] == ok
    numbers: list[Any] = ["+77010000000"] * 3 + [{"number": "+77010000000", "variables": {"a" * 31: "x"}}]
    refused(
        m.CreateListRequest,
        f"numbers[3].variables.{'a' * 31}",
        rule="1-30 characters",
        name="L",
        numbers=numbers,
    )
    refused(
        m.ListContact,
        "variables.bad-key",
        rule="[a-zA-Z0-9_]",
        number="+77010000000",
        variables={"bad-key": "x"},
    )
    refused(
        m.ListContact,
        "variables.debt",
        rule="at most 255",
        number="+77010000000",
        variables={"debt": "x" * 256},
    )
    refused(
        m.ListContact,
        "variables.debt",
        rule="must be a string",
        number="+77010000000",
        variables={"debt": 15000},
    )
    refused(m.BulkContact, "variables", rule="object", number="+77010000000", variables=["debt"])


# --- enums --------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", m.TRIES_INTERVALS)
def test_tries_interval_takes_the_documented_minutes(value: int) -> None:
    assert m.build(m.AutocallSpec, **REGULAR, tries_interval=value).body()["tries_interval"] == value
    assert m.build(m.UpdateAutocallRequest, tries_interval=value).body() == {"tries_interval": value}


@pytest.mark.parametrize("value", [0, 45, 90, "60", 60.0, True, "fifteen"])
def test_tries_interval_refuses_anything_else(value: Any) -> None:
    refused(m.AutocallSpec, "tries_interval", rule="15, 30, 60, 120", **REGULAR, tries_interval=value)


@pytest.mark.parametrize(
    ("value", "ok"), [(1, True), (4, True), (0, False), (5, False), (True, False), ("2", False)]
)
def test_max_tries_is_1_to_4(value: Any, ok: bool) -> None:
    if ok:
        assert m.build(m.AutocallSpec, **REGULAR, max_tries=value).body()["max_tries"] == value
    else:
        refused(m.AutocallSpec, "max_tries", rule="1, 2, 3, 4", **REGULAR, max_tries=value)


def test_voices_differ_between_sounds_and_campaign_audio() -> None:
    for voice in m.SOUND_VOICES:
        assert m.build(m.SoundData, text="Hi", voice=voice).voice == voice
    for voice in ("filipp", "alena"):
        audio = {"type": "synthesis", "data": {"text": "Hi", "voice": voice}}
        assert m.build(m.AutocallSpec, **{**REGULAR, "audio_id": [audio]}).body()["audio_id"] == [audio]
        refused(
            m.CreateSoundRequest,
            "data[0].voice",
            rule="voices of POST /sounds",
            name="S",
            type="synthesis",
            data=[{"text": "Hi", "voice": voice}],
        )
    refused(m.SoundData, "voice", voice="ru-RU-Wavenet-E", text="Hi")


@pytest.mark.parametrize(
    ("model", "values", "field", "bad"),
    [
        (m.AutocallSpec, REGULAR, "type", "robocall"),
        (m.CreateSoundRequest, {"name": "S", "data": [{"text": "x"}]}, "type", "tts"),
        (m.AudioSpec, {"data": {"text": "x"}}, "type", "file"),
        (m.ListQuery, {}, "order", "up"),
    ],
)
def test_other_enums(model: type[Any], values: dict[str, Any], field: str, bad: str) -> None:
    refused(model, field, rule="must be one of", **{**values, field: bad})


@pytest.mark.parametrize(("field", "low", "high"), [("speed", 0.25, 4), ("pitch", -20, 20)])
def test_speed_and_pitch_ranges(field: str, low: float, high: float) -> None:
    for value in (low, high):
        assert m.build(m.SoundData, text="Hi", **{field: value}).body()[field] == value
    refused(m.SoundData, field, rule="greater than or equal", text="Hi", **{field: low - 0.01})
    refused(m.SoundData, field, rule="less than or equal", text="Hi", **{field: high + 0.01})
    refused(m.SoundData, field, rule="must be a number", text="Hi", **{field: "1"})
    refused(m.SoundData, field, rule="must be a number", text="Hi", **{field: True})


def test_sound_text_is_1_to_400_characters() -> None:
    assert m.build(m.SoundData, text="x" * 400).text == "x" * 400
    refused(m.SoundData, "text", rule="at most 400", text="x" * 401)
    refused(m.AudioData, "text", rule="at most 400", text="x" * 401)


# --- formats ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("13:00:00", "13:00:00"),
        (time(9, 5, 7), "09:05:07"),
        (time(23, 59, 59, 999), "23:59:59"),
        ("00:00:00", "00:00:00"),
    ],
)
def test_times_are_sent_as_h_i_s(given: Any, sent: str) -> None:
    assert m.build(m.AutocallSpec, **REGULAR, time_from=given, time_to=given).body()["time_to"] == sent
    assert m.build(m.UpdateBulkRequest, time_from=given).body() == {"time_from": sent}


@pytest.mark.parametrize(
    "bad", ["13:00", "1:00:00", "24:00:00", "12:60:00", "13-00-00", 1300, datetime(2024, 1, 1)]
)
def test_other_times_are_refused(bad: Any) -> None:
    refused(m.AutocallSpec, "time_from", rule="H:i:s", **REGULAR, time_from=bad)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2024-03-15", "2024-03-15"),
        (date(2024, 3, 15), "2024-03-15"),
        (datetime(2024, 3, 15, 23, 0), "2024-03-15"),
    ],
)
def test_dates_are_sent_as_y_m_d(given: Any, sent: str) -> None:
    assert m.build(m.CreateBulkRequest, **BULK, date_from=given).body()["date_from"] == sent
    assert m.build(m.ListQuery, date_from=given, date_to=given).params() == {
        "date_from": sent,
        "date_to": sent,
        "page": 1,
    }


@pytest.mark.parametrize("bad", ["2024-3-15", "15.03.2024", "2024-02-30", "20240315", 20240315])
def test_other_dates_are_refused(bad: Any) -> None:
    refused(m.AutocallSpec, "date_from", rule="Y-m-d", **REGULAR, date_from=bad)
    refused(m.ListQuery, "date_to", rule="Y-m-d", date_to=bad)


# --- what depends on what -----------------------------------------------------------------------
def test_a_regular_campaign_needs_audio_and_an_interactive_one_a_scenario() -> None:
    refused(m.AutocallSpec, "audio_id", rule="'regular'", name="N", type="regular", list_id=[1])
    refused(m.AutocallSpec, "audio_id", rule="'regular'", name="N", type="regular", list_id=[1], audio_id=[])
    refused(m.AutocallSpec, "scenario_id", rule="'interactive'", name="N", type="interactive", list_id=[1])
    body = m.build(m.AutocallSpec, name="N", type="interactive", list_id=[1], scenario_id=512).body()
    assert body == {"name": "N", "type": "interactive", "list_id": [1], "scenario_id": 512}


def test_sms_texts_are_needed_when_asked_for() -> None:
    refused(m.AutocallSpec, "text", rule="sms is true", **REGULAR, sms=True)
    refused(m.AutocallSpec, "text_unanswered", rule="sms_unanswered is true", **REGULAR, sms_unanswered=True)
    assert m.build(m.AutocallSpec, **REGULAR, sms=False).body()["sms"] is False
    refused(m.AutocallSpec, "sms", rule="valid boolean", **REGULAR, sms="yes")


def test_sounds_need_text_to_synthesise_and_a_file_to_upload() -> None:
    refused(
        m.CreateSoundRequest,
        "data[0].text",
        rule="'synthesis'",
        name="S",
        type="synthesis",
        data=[{"voice": "jane"}],
    )
    refused(
        m.CreateSoundRequest, "data[0].file", rule="'upload'", name="S", type="upload", data=[{"text": "x"}]
    )
    refused(
        m.CreateSoundRequest, "data", rule="at most 1", name="S", type="upload", data=[{"file": "YWJj"}] * 2
    )
    audio: list[Any] = [5, {"type": "upload", "data": {"text": "x"}}]
    refused(m.AutocallSpec, "audio_id[1].data.file", rule="'upload'", **{**REGULAR, "audio_id": audio})
    refused(m.AutocallSpec, "audio_id[0]", rule="sound id", **{**REGULAR, "audio_id": [0]})


def test_files_are_base64_and_never_quoted() -> None:
    assert m.build(m.SoundData, file=b"\x00ID3").body() == {"file": "AElEMw=="}
    error = refused(m.SoundData, "file", rule="Base64", file="not base64 ***")
    assert "not base64" not in str(error)
    refused(m.SoundData, "file", rule="empty", file=b"")


def test_scenarios_are_json_text() -> None:
    assert m.build(m.CreateScenarioRequest, name="S", data={"a": "б"}).body()["data"] == '{"a": "б"}'
    assert m.build(m.UpdateScenarioRequest, data="[1]").body() == {"data": "[1]"}
    refused(m.CreateScenarioRequest, "data", rule="JSON", name="S", data="{not json")


def test_flash_calls_take_digits_or_a_code() -> None:
    assert m.build(m.FlashCallRequest, number="+77010000000", digits=3).body() == {
        "number": "+77010000000",
        "digits": 3,
    }
    assert m.build(m.FlashCallRequest, number="+77010000000", digits=6).length == 6
    assert m.build(m.FlashCallRequest, number="+77010000000", code="123456").length == 6
    refused(m.FlashCallRequest, "digits", rule="greater than or equal to 3", number="+77010000000", digits=2)
    refused(m.FlashCallRequest, "digits", rule="less than or equal to 6", number="+77010000000", digits=7)
    refused(m.FlashCallRequest, "digits", rule="required when code", number="+77010000000")
    refused(m.FlashCallRequest, "code", rule="not both", number="+77010000000", digits=4, code="1234")
    for bad in ("12", "1234567", "12a4", "١٢٣٤"):
        error = refused(m.FlashCallRequest, "code", rule="3 to 6 digits", number="+77010000000", code=bad)
        assert bad not in str(error), "a code is a secret: never quoted"


def test_confirmed_numbers_are_two_steps() -> None:
    assert m.build(m.ConfirmNumberRequest, verification_code=30756).body() == {"verification_code": 30756}
    refused(m.ConfirmNumberRequest, "number", rule="required")
    refused(
        m.ConfirmNumberRequest,
        "verification_code",
        rule="not together",
        number="+77010000000",
        verification_code=30756,
    )
    refused(
        m.ConfirmNumberRequest,
        "verification_code",
        rule="greater than or equal to 10000",
        verification_code=9999,
    )
    refused(
        m.ConfirmNumberRequest,
        "verification_code",
        rule="less than or equal to 99999",
        verification_code=100000,
    )


def test_payments_start_at_200_tenge() -> None:
    assert m.build(m.PaymentRequest, amount=200).body() == {"amount": 200}
    refused(m.PaymentRequest, "amount", rule="greater than or equal to 200", amount=199)
    refused(m.PaymentRequest, "amount", rule="valid integer", amount="1000")
    refused(m.PaymentRequest, "amount", rule="valid integer", amount=200.0)


def test_list_ids_and_other_ids_are_positive_integers() -> None:
    refused(m.AutocallSpec, "list_id[1]", rule="contact list id", **{**REGULAR, "list_id": [1, True]})
    refused(m.CreateBulkRequest, "list_id[0]", rule="contact list id", **{**BULK, "list_id": [0]})
    refused(m.CreateBulkRequest, "list_id[0]", rule="contact list id", **{**BULK, "list_id": [1.5]})
    refused(m.RentCallerIdRequest, "caller_id_id", rule="greater than or equal to 1", caller_id_id=0)
    refused(m.UpdateSettingsRequest, "visit_card_audio", rule="valid integer", visit_card_audio=True)
    refused(m.ListQuery, "page", rule="greater than or equal to 1", page=0)


def test_edits_need_something_to_change() -> None:
    for model in (m.UpdateListRequest, m.UpdateSoundRequest, m.UpdateScenarioRequest, m.UpdateAutocallRequest,
                  m.UpdateBulkRequest, m.UpdateSettingsRequest):  # fmt: skip
        refused(model, "request", rule="at least one of")


def test_unknown_arguments_are_refused() -> None:
    refused(m.AutocallSpec, "recrod", rule="Extra inputs", **REGULAR, recrod=True)
    refused(m.InlineContact, "name", rule="Extra inputs", number="+77010000000", name="x")


# --- unset fields are left out; names of arguments ----------------------------------------------
def test_unset_fields_are_left_out_never_null() -> None:
    body = m.build(m.CreateAutocallRequest, **REGULAR, client_id="c-1", caller_id=None, record=None).body()
    assert body == {
        "name": "Reminder",
        "type": "regular",
        "list_id": [10],
        "audio_id": [5],
        "client_id": "c-1",
    }
    contacts = [{"number": "+77010000000", "extra": None, "variables": None}, "+77010000001"]
    full = m.build(
        m.CreateAutocallRequest,
        **{**REGULAR, "list_id": contacts, "audio_id": [{"type": "synthesis", "data": {"text": "Hi"}}]},
        client_id="c-2",
        time_from="10:00:00",
        sms_unanswered=True,
        text_unanswered="{{name}}, call us",
        record=False,
    ).body()
    assert no_nulls(full)
    assert full["list_id"] == [{"number": "+77010000000"}, {"number": "+77010000001"}]
    assert full["audio_id"] == [{"type": "synthesis", "data": {"text": "Hi"}}]
    assert full["record"] is False
    assert m.build(m.UpdateAutocallRequest, name="New").body() == {"name": "New"}
    assert m.build(m.ListQuery).params() == {"page": 1}
    assert no_nulls(m.build(m.CreateSoundRequest, name="S", type="synthesis", data=[{"text": "x"}]).body())


def test_errors_use_the_hooks_argument_names_and_mask_numbers() -> None:
    with pytest.raises(RequestValidationError) as err:
        m.build(m.CreateBulkRequest, {"list_id": "recipients"}, **{**BULK, "list_id": [1, "+7701"]})
    assert err.value.field == "recipients[1].number"
    assert "+7701" not in str(err.value)
    numbers: list[Any] = ["+77010000000"] * 3 + ["+77060000000"]
    error = refused(m.CreateListRequest, "numbers[3].number", name="L", numbers=numbers)
    assert "+77060000000" not in str(error) and "00" in str(error)


def test_existing_names_are_kept() -> None:
    assert (m.MAX_INLINE_NUMBERS, m.MAX_CLIENT_ID) == (5000, 60)
    body = m.build(m.CreateBulkRequest, name="x", text="y", list_id=["+77010000000"], client_id="z").body()
    assert body == {"name": "x", "text": "y", "list_id": [{"number": "+77010000000"}], "client_id": "z"}
    assert m.Page[m.Bulk].model_validate({"current_page": 1, "data": [{"id": 1}]}).data[0].id == 1


# --- answers are tolerant ------------------------------------------------------------------------
def test_answers_keep_unknown_fields_and_allow_missing_ones() -> None:
    page = m.Page[m.Autocall].model_validate(
        {"data": [{"id": 1, "status": "brand_new", "surprise": [1]}], "from": 1, "next_page_url": None}
    )
    assert page.data[0].status == "brand_new" and page.data[0].model_extra == {"surprise": [1]}
    assert page.from_ == 1 and not page.data[0].is_final
    detail = m.AutocallDetail.model_validate(
        {
            "id": 2,
            "status": "completed",
            "calls": {"data": [{"id": 3, "status": "success"}], "current_page": 1},
        }
    )
    assert detail.is_final and detail.calls is not None and detail.calls.data[0].status == "success"
    dashboard = m.Dashboard.model_validate(
        {"running&awaiting": 3, "week_activity": {"2024-11-01": {"all": 1}}}
    )
    assert dashboard.running_awaiting == 3 and dashboard.week_activity is not None
    assert m.Balance.model_validate({"balance": "1450.75", "currency": "₸"}).balance == 1450.75
    assert m.Message.model_validate({"id": 7, "status": "delivered"}).status in m.MESSAGE_FINAL_STATUSES


def test_a_flash_call_code_stays_out_of_reprs() -> None:
    call = m.FlashCall.model_validate({"id": 1, "code": "77017482", "number": "+77010000000"})
    assert "7482" not in repr(call)
    call._digits = 4
    assert call.otp == "7482"
