"""The card-number flow on the sans-IO machine: PIN entry, retries, lockout, press 1, CLIR."""

from __future__ import annotations

import subprocess
import sys

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.types import ActivationStatus, Cause, Role, State
from tests.engine.driver import ADVISOR_NO, CARD_NO, Driver

CARD = ev.NumberInfo(role=Role.CARD, project_id=1, pin_length=8)
CARD_WITH_ADVISOR = ev.NumberInfo(
    role=Role.CARD, project_id=1, pin_length=8, default_advisor=ADVISOR_NO
)


def sounds(out: list[cmd.Command]) -> list[str]:
    return [s for c in out if isinstance(c, cmd.Play) for s in c.sounds]


def test_machine_imports_no_io() -> None:
    """The call logic loads without aiohttp, SQLAlchemy or any database driver."""
    probe = (
        "import sys, pbx_engine.call.machine; "
        "bad = {'aiohttp', 'sqlalchemy', 'aiosqlite', 'asyncpg', 'cards'} & set(sys.modules); "
        "print(sorted(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_right_pin_binds_and_announces_balance() -> None:
    d = Driver()
    assert d.one(cmd.LookUp, d.start(CARD_NO)).dialed == CARD_NO
    out = d.send(CARD)
    assert d.of(cmd.Answer, out)
    assert sounds(out) == ["welcome", "enter_pin"]
    d.played()
    out = d.digits("12345678")
    assert d.one(cmd.Activate, out).pin == "12345678"
    out = d.send(ev.ActivationDone(ActivationStatus.ACTIVATED, card_id=5, seconds=21 * 60 + 59))
    assert sounds(out) == ["activated", "balance_is", "num/n21", "minutes"]
    out = d.played()
    assert sounds(out) == ["goodbye"]
    out = d.played()
    assert d.of(cmd.HangupChannel, out)
    assert d.machine.done
    assert not d.of(cmd.Settle)


def test_hash_submits_short_pin_and_star_clears() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    out = d.digits("99*1234#")
    assert d.one(cmd.Activate, out).pin == "1234"


def test_first_digit_interrupts_the_prompt() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    playing = d.machine.ctx.waiting_for
    out = d.digits("1")
    assert d.one(cmd.StopPlayback, out).playback_id == playing


def test_three_wrong_pins_end_the_call() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    for attempt in range(3):
        d.played()
        d.digits("00000000")
        out = d.send(ev.ActivationDone(ActivationStatus.INVALID))
        if attempt < 2:
            assert sounds(out) == ["pin_invalid", "enter_pin"]
    assert sounds(out) == ["pin_invalid", "goodbye"]
    assert len(d.of(cmd.Activate)) == 3
    d.played()
    assert d.machine.done
    assert d.machine.ctx.ending.cause is Cause.PIN_INVALID


def test_silence_times_out_and_costs_a_try_without_a_guess() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    d.played()
    out = d.advance(20_000)
    assert sounds(out) == ["pin_invalid", "enter_pin"]
    assert not d.of(cmd.Activate)


def test_pause_between_digits_submits_after_five_seconds() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    d.played()
    d.digits("1234")
    out = d.advance(5_000)
    assert d.one(cmd.Activate, out).pin == "1234"


def test_locked_line_hears_pin_locked() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    d.digits("12345678")
    out = d.send(ev.ActivationDone(ActivationStatus.LOCKED))
    assert sounds(out) == ["pin_locked", "goodbye"]


def test_press_1_goes_to_the_default_advisor() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD_WITH_ADVISOR)
    d.digits("12345678")
    d.send(ev.ActivationDone(ActivationStatus.ACTIVATED, card_id=5, seconds=60))
    assert sounds(d.played()) == ["press_1_to_connect"]
    d.played()
    out = d.digits("1")
    assert d.one(cmd.LookUp, out).dialed == ADVISOR_NO
    assert d.machine.state is State.LOOKING_UP


def test_no_press_1_says_goodbye_after_ten_seconds() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD_WITH_ADVISOR)
    d.digits("12345678")
    d.send(ev.ActivationDone(ActivationStatus.ACTIVATED, card_id=5, seconds=180))
    d.played()
    d.played()
    assert sounds(d.advance(10_000)) == ["goodbye"]


def test_caller_hangs_up_during_pin_entry() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    d.digits("123")
    out = d.send(ev.Hangup("chan-caller", d.now))
    assert d.machine.done
    assert d.of(cmd.CancelTimer, out)
    assert not d.of(cmd.Settle)
    assert d.send(ev.Digit("chan-caller", "4", d.now)) == []


def test_no_caller_number_hears_clir_required() -> None:
    d = Driver()
    out = d.start(CARD_NO, caller=None)
    assert sounds(out) == ["clir_required"]
    assert not d.of(cmd.LookUp)


def test_unknown_number() -> None:
    d = Driver()
    d.start("+498912345699")
    assert sounds(d.send(ev.NumberInfo(role=None))) == ["number_not_reachable"]


def test_unexpected_events_are_counted_and_change_nothing() -> None:
    d = Driver()
    d.start(CARD_NO)
    for stray in (
        ev.AdvisorAnswered("x", d.now),
        ev.Authorized(3, 60),
        ev.EnteredBridge("x", "b", 0),
        ev.ActivationDone(ActivationStatus.ACTIVATED, 1, 60),
    ):
        assert d.send(stray) == []
    assert d.machine.state is State.LOOKING_UP
    assert [type(u.event) for u in d.machine.unexpected] == [
        ev.AdvisorAnswered,
        ev.Authorized,
        ev.EnteredBridge,
        ev.ActivationDone,
    ]


def test_late_events_are_ignored_on_purpose_not_counted() -> None:
    d = Driver()
    d.start(CARD_NO)
    for late in (ev.Digit("chan-caller", "1", 0), ev.PlaybackFinished("nope", 0)):
        assert d.send(late) == []
    assert d.machine.unexpected == []


def test_an_0800_card_number_refuses_a_mobile_caller() -> None:
    d = Driver()
    d.start(CARD_NO, caller="+4915112345678")
    out = d.send(ev.NumberInfo(role=Role.CARD, project_id=1, accepts_caller=False))
    assert sounds(out) == ["number_not_reachable"]
    assert not d.of(cmd.Activate)
    assert d.machine.ctx.ending.cause is Cause.CALLER_NOT_ACCEPTED


def test_less_than_a_minute_is_announced_as_one_minute() -> None:
    d = Driver()
    d.start(CARD_NO)
    d.send(CARD)
    d.digits("12345678")
    out = d.send(ev.ActivationDone(ActivationStatus.ACTIVATED, card_id=5, seconds=12))
    assert sounds(out) == ["activated", "balance_is", "num/one_f", "minute"]
