"""The rendered numbers file: every form of a number reaches Stasis with its E.164 form; the
prompt language is the engine's choice (caller, number's --lang), never the dialplan's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.errors import InvalidInput
from dialplan.render import RoutedNumber, render_ari_conf, render_numbers


def test_each_number_and_its_aliases_reach_stasis_with_the_e164_form() -> None:
    text = render_numbers(
        [
            RoutedNumber("+498912345670", "card", "astro"),
            RoutedNumber("+442079460018", "card", "astro"),
        ],
        app="mc",
    )
    lines = text.splitlines()
    assert "exten => +498912345670,1,Stasis(mc,+498912345670)" in lines
    assert "exten => 498912345670,1,Goto(minutecard-in,+498912345670,1)" in lines
    assert "exten => 08912345670,1,Goto(minutecard-in,+498912345670,1)" in lines
    assert "exten => +442079460018,1,Stasis(mc,+442079460018)" in lines
    assert "language" not in text.replace("prompt language", "")


HOSTILE = [
    "astro\nexten => _X.,1,Dial(PJSIP/attacker)",
    "astro\r\n[other-context]",
    "a;b",
    "x" * 81,
    "",
    "   ",
    "tab\there",
]


@pytest.mark.parametrize("project", HOSTILE)
def test_a_hostile_project_name_is_refused_not_rendered(project: str) -> None:
    with pytest.raises(InvalidInput):
        render_numbers([RoutedNumber("+498912345670", "card", project)])


@pytest.mark.parametrize("app", ["mc\nexten => x", "mc,1", "mc)", "", "a" * 41])
def test_a_hostile_app_name_is_refused(app: str) -> None:
    with pytest.raises(InvalidInput):
        render_numbers([RoutedNumber("+498912345670", "card", "astro")], app=app)


@pytest.mark.parametrize("e164", ["+4989\n1", "+49891234567;x", "0891234567", "+"])
def test_a_malformed_number_is_refused(e164: str) -> None:
    with pytest.raises(InvalidInput):
        render_numbers([RoutedNumber(e164, "card", "astro")])


@pytest.mark.parametrize(
    "password",
    ["good-password\n[hacker]\ntype = user", "has blank 1234", "short", 'q"uote12345678'],
)
def test_a_hostile_ari_password_is_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        render_ari_conf("password = CHANGE-ME-BEFORE-USE\n", password)


@given(st.text(max_size=120))
def test_whatever_the_name_the_file_has_one_line_per_statement(project: str) -> None:
    """No input makes a line that is not ours: a comment, an exten, a same, or blank."""
    try:
        text = render_numbers([RoutedNumber("+498912345670", "card", project)])
    except InvalidInput:
        return
    for line in text.splitlines():
        assert line == "" or line.startswith(("; ", "exten => ", " same => ")), line


def test_agi_mode_dials_with_the_authorized_limit_and_settles_in_h() -> None:
    text = render_numbers(
        [
            RoutedNumber("+498912345670", "card", "astro"),
            RoutedNumber("+498912345671", "advisor", "astro"),
        ],
        mode="agi",
        agi="agi://127.0.0.1:4573",
    )
    lines = text.splitlines()
    assert "exten => +498912345671,1,AGI(agi://127.0.0.1:4573/authorize)" in lines
    assert " same => n,Dial(${MC_DEST},30,L(${MC_LIMIT_MS}:${MC_WARN_MS}))" in lines
    assert " same => n,Set(LIMIT_PLAYAUDIO_CALLEE=yes)" in lines
    assert " same => n,AGI(agi://127.0.0.1:4573/activate,${MC_PIN})" in lines
    [settle] = [line for line in lines if line.startswith("exten => h,1,")]
    assert "/settle,${MC_HOLD},${ANSWEREDTIME_MS},${DIALSTATUS}," in settle
    assert "Stasis(" not in text


@pytest.mark.parametrize("agi", ["agi://host:1\nexten => x", "http://x", "agi://a b", ""])
def test_a_hostile_agi_address_is_refused(agi: str) -> None:
    with pytest.raises(InvalidInput):
        render_numbers([RoutedNumber("+498912345670", "card", "astro")], mode="agi", agi=agi)


@pytest.mark.parametrize("mode", ["ari", "agi"])
def test_the_login_number_reaches_stasis_in_either_mode(mode: str) -> None:
    """Advisors log in and out through the engine's app (issue 23): hunting is ARI's only."""
    text = render_numbers([RoutedNumber("+498912345679", "login", "astro")], app="mc", mode=mode)
    assert "exten => +498912345679,1,Stasis(mc,+498912345679)" in text.splitlines()
