"""The advisor-number flow on the sans-IO machine with the default 120 s lead and a fake clock.

Charging starts when both legs are in the bridge (the second EnteredBridge stamp); the machine
counts talk seconds only, the cards services turn them into money.
"""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.types import ActivationStatus, Cause, Role, Side, State, TimerId
from rating import Unit
from tests.engine.driver import Driver

ADVISOR = ev.NumberInfo(role=Role.ADVISOR, project_id=1, destination="PJSIP/advisor1", card_id=5)
MONEY = ev.NumberInfo(
    role=Role.ADVISOR, project_id=1, destination="PJSIP/advisor1", card_id=5, unit=Unit.MONEY
)


def sounds(out: list[cmd.Command]) -> list[str]:
    return [s for c in out if isinstance(c, cmd.Play) for s in c.sounds]


def bridge_plays(d: Driver) -> list[cmd.Play]:
    return [p for p in d.of(cmd.Play) if p.bridge]


def test_full_call_warns_both_legs_at_exhaustion_minus_120_and_ends_on_the_second() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    start = d.now
    assert d.one(cmd.Bridge).channels == ("chan-caller", "c1-advisor")
    assert d.one(cmd.Authorize).card_id == 5
    assert d.timers[TimerId.WARN] == start + 480_000
    assert d.timers[TimerId.END] == start + 600_000
    d.advance(480_000)
    [warning] = bridge_plays(d)
    assert warning.sounds == ("warning", "num/n2", "minutes")
    assert warning.bridge == "c1-bridge"
    assert d.machine.state is State.WARNED
    out = d.advance(120_000)
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    settle = d.one(cmd.Settle, out)
    assert (settle.hold_id, settle.record.talk_s) == (42, 600)
    assert settle.record.ended_ms == start + 600_000
    assert settle.record.charge_start_ms == start
    assert (settle.record.side, settle.record.cause) == (Side.ENGINE, Cause.CREDIT_EXHAUSTED)
    assert sounds(out) == ["credit_exhausted"]
    # The caller hears it alone in the bridge; the bridge goes last.
    assert d.one(cmd.Play, out).channel == "chan-caller" and not d.of(cmd.DestroyBridge)
    out = d.played()
    assert d.one(cmd.HangupChannel, out).channel == "chan-caller"
    assert d.one(cmd.DestroyBridge, out).bridge == "c1-bridge"
    assert d.machine.done


def test_a_farewell_that_never_ends_is_cut_by_its_guard() -> None:
    """Asterisk 16 answered 201 to a play sent as the caller left a destroyed bridge and never
    started it (2 of 100 calls in a load run): the caller is hung up 20 s after the end."""
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    end = d.now + 600_000
    d.advance(600_000)
    assert d.machine.state is State.FAREWELL
    assert d.timers[TimerId.FAREWELL_GUARD] == end + 20_000
    assert not d.advance(19_999)
    out = d.advance(1)
    assert d.one(cmd.HangupChannel, out).channel == "chan-caller"
    assert d.one(cmd.DestroyBridge, out).bridge == "c1-bridge"
    assert d.machine.done and not d.machine.unexpected


def test_charging_starts_when_the_second_leg_is_in_the_bridge_not_at_answer() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.authorized(600)
    d.played()
    answered = d.now
    d.send(ev.AdvisorAnswered("c1-advisor", answered))
    assert d.machine.state is State.BRIDGING
    assert TimerId.END not in d.timers
    d.now += 900  # a slow bridge under load: these seconds are not billed
    d.bridge()
    assert d.timers[TimerId.END] == d.now + 600_000
    d.now += 10_000
    settle = d.one(cmd.Settle, d.send(ev.Hangup("chan-caller", d.now, 16)))
    assert settle.record.answered_ms == answered
    assert settle.record.talk_s == 10
    assert settle.record.q850 == 16


def test_announces_remaining_minutes_before_dialing() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    out = d.authorized(21 * 60 + 30)
    assert sounds(out) == ["remaining", "num/n21", "minutes", "credit_suffix"]
    assert not d.of(cmd.Dial)
    assert d.one(cmd.Dial, d.played()).destination == "PJSIP/advisor1"


def test_call_starting_with_90_seconds_is_warned_at_once() -> None:
    d = Driver()
    out = d.connect(ADVISOR, credit_s=90)
    # Less than the lead from the start: it says what the call has, one minute (90 s, down).
    assert [p.sounds for p in out if isinstance(p, cmd.Play)] == [
        ("warning", "num/one_f", "minute")
    ]
    assert TimerId.WARN not in d.timers
    assert d.timers[TimerId.END] == d.now + 90_000


def test_caller_hangs_up_first_on_asterisks_stamp() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    d.now += 61_200
    out = d.send(ev.Hangup("chan-caller", d.now, 16))
    settle = d.one(cmd.Settle, out)
    assert settle.record.talk_s == 62
    assert settle.record.side is Side.CALLER
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    assert d.one(cmd.DestroyBridge, out)
    assert d.machine.done


def test_advisor_hangs_up_first() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    d.now += 30_000
    out = d.send(ev.Hangup("c1-advisor", d.now, 16))
    assert d.one(cmd.Settle, out).record.side is Side.ADVISOR
    assert d.one(cmd.Settle, out).record.talk_s == 30
    assert sounds(out) == ["goodbye"]
    assert d.send(ev.Hangup("c1-advisor", d.now, 16)) == []  # ChannelDestroyed after the request
    assert d.one(cmd.HangupChannel, d.played()).channel == "chan-caller"


def test_busy_or_unanswered_advisor_releases_the_hold_at_once() -> None:
    for q850, cause in ((17, Cause.ADVISOR_BUSY), (19, Cause.ADVISOR_NOANSWER)):
        d = Driver()
        d.start()
        d.send(ADVISOR)
        d.authorized(600)
        d.played()
        out = d.send(ev.Hangup("c1-advisor", d.now, q850))
        settle = d.one(cmd.Settle, out)
        assert (settle.hold_id, settle.record.charge_start_ms) == (42, None)
        assert (settle.record.cause, settle.record.side) == (cause, Side.ADVISOR)
        assert sounds(out) == ["advisor_unavailable", "goodbye"]
        assert d.send(ev.Hangup("c1-advisor", d.now, q850)) == []
        d.played()
        assert d.machine.done
        assert len(d.of(cmd.Settle)) == 1


def test_a_dial_that_fails_is_an_unavailable_advisor() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.authorized(600)
    dial = d.one(cmd.Dial, d.played())
    out = d.send(ev.CommandFailed(dial, "ARI 500", d.now))
    assert d.one(cmd.Settle, out).record.cause is Cause.ADVISOR_FAILED
    assert sounds(out) == ["advisor_unavailable", "goodbye"]


def test_caller_hangs_up_while_dialing_releases_and_drops_the_advisor_leg() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.authorized(600)
    d.played()
    out = d.send(ev.Hangup("chan-caller", d.now))
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    settle = d.one(cmd.Settle, out)
    assert (settle.hold_id, settle.record.talk_s, settle.record.side) == (42, 0, Side.CALLER)


def test_no_credit_is_refused_with_a_record() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    out = d.send(ev.Authorized(None, 0, Cause.NO_CREDIT))
    assert sounds(out) == ["no_credit", "goodbye"]
    settle = d.one(cmd.Settle, d.played())
    assert (settle.hold_id, settle.record.cause) == (None, Cause.NO_CREDIT)


def test_refused_caller_on_0800_is_told_and_charged_nothing() -> None:
    d = Driver()
    d.start()
    out = d.send(ev.NumberInfo(role=Role.ADVISOR, project_id=1, accepts_caller=False))
    assert sounds(out) == ["number_not_reachable"]
    settle = d.one(cmd.Settle, d.played())
    assert (settle.hold_id, settle.record.cause) == (None, Cause.CALLER_NOT_ACCEPTED)


def test_unbound_line_activates_inline_then_authorizes() -> None:
    d = Driver()
    d.start()
    out = d.send(ev.NumberInfo(role=Role.ADVISOR, project_id=1, destination="PJSIP/a"))
    assert sounds(out) == ["not_activated", "enter_pin"]
    d.digits("12345678")
    out = d.send(ev.ActivationDone(ActivationStatus.ACTIVATED, card_id=9))
    assert sounds(out) == ["activated"]
    assert d.one(cmd.Authorize, out).card_id == 9


def test_database_away_at_authorization_is_told_not_billed() -> None:
    d = Driver()
    d.start()
    out = d.send(ADVISOR)
    authorize = d.one(cmd.Authorize, out)
    out = d.send(ev.CommandFailed(authorize, "database unreachable", d.now))
    assert sounds(out) == ["service_unavailable"]
    settle = d.one(cmd.Settle, d.played())
    assert settle.record.cause is Cause.SERVICE_UNAVAILABLE


def test_money_project_announces_tariff_before_dialing() -> None:
    d = Driver()
    d.start()
    d.send(MONEY)
    out = d.authorized(5 * 60 + 10, price_per_minute=19_900)
    assert sounds(out) == [
        "remaining",
        "num/n5",
        "minutes",
        "credit_suffix",
        "tariff",
        "num/n1",
        "euro",
        "num/n99",
        "cent",
        "per_minute",
    ]


def test_charging_after_the_tariff_announcement_in_the_bridge() -> None:
    d = Driver()
    out = d.connect(MONEY, credit_s=600, price_per_minute=6_000, after_announcement=True)
    assert [p.sounds[0] for p in out if isinstance(p, cmd.Play)] == ["tariff"]
    assert TimerId.END not in d.timers
    d.now += 4_000
    d.played()
    start = d.now
    assert d.timers[TimerId.END] == start + 600_000
    d.now += 10_000
    settle = d.one(cmd.Settle, d.send(ev.Hangup("chan-caller", d.now)))
    assert (settle.record.charge_start_ms, settle.record.talk_s) == (start, 10)


def test_top_up_mid_call_moves_warning_and_end() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    start = d.now
    d.advance(500_000)
    assert bridge_plays(d)
    out = d.send(ev.CreditChanged(d.now))
    assert d.one(cmd.FollowCredit, out).hold_id == 42
    d.send(ev.HoldMoved(1_200, d.now))
    assert d.machine.state is State.TALKING
    assert d.timers[TimerId.END] == start + 1_200_000
    assert d.timers[TimerId.WARN] == start + 1_080_000
    d.advance(600_000)
    assert len(bridge_plays(d)) == 2
    out = d.advance(100_000)
    assert d.one(cmd.Settle, out).record.talk_s == 1_200


def test_small_top_up_after_the_warning_moves_only_the_end() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    start = d.now
    d.advance(500_000)
    d.send(ev.HoldMoved(610, d.now))
    assert d.machine.state is State.WARNED
    assert d.timers[TimerId.END] == start + 610_000
    assert len(bridge_plays(d)) == 1


def test_an_extension_that_brings_nothing_keeps_the_old_limit() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    end = d.timers[TimerId.END]
    d.send(ev.CreditChanged(d.now))
    d.send(ev.HoldMoved(600, d.now))
    assert d.timers[TimerId.END] == end


def test_a_debit_mid_call_brings_end_and_warning_forward() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    start = d.now
    d.advance(100_400)
    out = d.send(ev.CreditChanged(d.now))
    assert d.one(cmd.FollowCredit, out).talked_s == 101  # started seconds
    d.send(ev.HoldMoved(150, d.now))
    assert d.timers[TimerId.END] == start + 150_000
    d.advance(0)  # the warning's instant has passed: it is heard at once
    assert (d.machine.state, len(bridge_plays(d))) == (State.WARNED, 1)
    out = d.advance(49_600)
    assert d.one(cmd.Settle, out).record.talk_s == 150


def test_a_debit_after_the_warning_moves_only_the_end_forward() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    start = d.now
    d.advance(500_000)
    d.send(ev.HoldMoved(520, d.now))
    assert (d.machine.state, d.timers[TimerId.END]) == (State.WARNED, start + 520_000)
    assert len(bridge_plays(d)) == 1


def test_a_debit_before_the_advisor_answers_lowers_the_limit() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.authorized(600)
    d.send(ev.HoldMoved(30, d.now))
    d.played()
    d.now += 5_000
    d.send(ev.AdvisorAnswered(d.one(cmd.Dial).channel, d.now))
    d.bridge()
    assert d.timers[TimerId.END] == d.now + 30_000


def test_checkpoints_record_talk_seconds() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    d.advance(17_000)
    assert [c.talk_s for c in d.of(cmd.Checkpoint)] == [5, 10, 15]  # every 5 s by default


def test_shutdown_mid_call_settles() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    d.now += 45_000
    out = d.send(ev.Shutdown(d.now))
    settle = d.one(cmd.Settle, out)
    assert settle.record.talk_s == 45
    assert {c.channel for c in d.of(cmd.HangupChannel, out)} == {"chan-caller", "c1-advisor"}
    assert len(d.of(cmd.Finished, out)) == 1
    assert d.machine.done


def test_second_hangup_after_done_is_ignored() -> None:
    d = Driver()
    d.connect(ADVISOR, credit_s=600)
    d.send(ev.Hangup("chan-caller", d.now + 1_000))
    assert d.send(ev.Hangup("c1-advisor", d.now + 1_010)) == []
    assert d.machine.unexpected == []


def test_an_advisor_answering_after_the_call_gave_up_is_hung_up() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.authorized(600)
    d.played()
    d.send(ev.Hangup("chan-caller", d.now))
    out = d.send(ev.AdvisorAnswered("c1-advisor", d.now))
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
