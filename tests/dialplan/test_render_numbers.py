"""The rendered numbers file: every form of a number reaches Stasis with its E.164 form; the
prompt language is the engine's choice (caller, number's --lang), never the dialplan's."""

from __future__ import annotations

from dialplan.render import RoutedNumber, render_numbers


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
