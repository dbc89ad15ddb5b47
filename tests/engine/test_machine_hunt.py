"""A number that rings a group (issue 23) on the sans-IO machine with a fake clock: busy, no
answer within the ring timeout, unreachable or congestion moves on; nobody left, or the overall
timeout, ends with ``advisor_unavailable`` and nothing charged; charging starts when the
answering leg is in the bridge; the record names who answered and every attempt."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.types import Cause, Role, Side, State
from tests.engine.driver import ADVISOR_NO, Driver

GROUP = ev.NumberInfo(
    role=Role.ADVISOR, project_id=1, destination="PJSIP/advisor1", card_id=5, hunt=True
)
ANNA, BEN, CLEO = (
    ev.Offered(1, "Anna", "PJSIP/anna"),
    ev.Offered(2, "Ben", "PJSIP/ben"),
    ev.Offered(3, "Cleo", "PJSIP/cleo"),
)
BUSY, NO_ANSWER, CONGESTION = 17, 19, 34


def hunting(credit_s: int = 600) -> Driver:
    d = Driver()
    d.start()
    d.send(GROUP)
    d.authorized(credit_s)
    d.played()
    assert d.machine.state is State.HUNTING
    return d


def offer(d: Driver, *who: ev.Offered, ring: int = 15, overall: int = 60) -> list[cmd.Command]:
    return d.send(ev.AdvisorsOffered(who, ring, overall, 30, d.now))


def test_busy_then_no_answer_then_the_third_answers_and_is_billed_from_the_bridge() -> None:
    d = hunting()
    assert d.one(cmd.ClaimAdvisors).tried == frozenset()
    hunt_start = d.now
    dial = d.one(cmd.Dial, offer(d, ANNA))
    assert (dial.channel, dial.destination, dial.timeout_s) == ("c1-advisor", "PJSIP/anna", 15)
    d.now += 400
    out = d.send(ev.Hangup("c1-advisor", d.now, BUSY))
    assert d.one(cmd.ReleaseAdvisors, out).advisor_ids == {1}
    assert d.one(cmd.ClaimAdvisors, out).tried == {1}
    assert d.machine.state is State.HUNTING and not d.of(cmd.Settle)
    dial = d.one(cmd.Dial, offer(d, BEN))
    assert dial.channel == "c1-advisor-2"
    d.now += 15_000  # Asterisk's originate timeout: cause 19
    out = d.send(ev.Hangup("c1-advisor-2", d.now, NO_ANSWER))
    assert d.one(cmd.ClaimAdvisors, out).tried == {1, 2}
    dial = d.one(cmd.Dial, offer(d, CLEO))
    assert dial.channel == "c1-advisor-3"
    assert dial.timeout_s == 15  # 44.6 s of the overall 60 left
    d.now += 3_000
    out = d.send(ev.AdvisorAnswered("c1-advisor-3", d.now))
    assert d.one(cmd.AdvisorTalking, out).advisor_id == 3
    assert d.one(cmd.Bridge, out).channels == ("chan-caller", "c1-advisor-3")
    d.bridge("c1-advisor-3")
    bridged = d.now
    d.advance(61_500)
    out = d.send(ev.Hangup("chan-caller", d.now))
    settle = d.one(cmd.Settle, out)
    assert settle.record.charge_start_ms == bridged
    assert settle.record.talk_s == 62  # 61.5 s from the bridge, started seconds; no ring time
    assert settle.record.advisor == "Cleo"
    attempts = d.one(cmd.RecordAttempts, out)
    assert [(a.advisor, a.outcome, a.ring_ms) for a in attempts.attempts] == [
        ("Anna", "advisor_busy", 400),
        ("Ben", "advisor_noanswer", 15_000),
        ("Cleo", "answered", 3_000),
    ]
    assert attempts.attempts[0].started_ms == hunt_start
    assert (attempts.answered, attempts.wrapup_s) == (3, 30)
    assert d.machine.state is State.DONE and not d.machine.unexpected


def test_nobody_left_says_so_and_charges_nothing() -> None:
    d = hunting()
    d.one(cmd.Dial, offer(d, ANNA))
    d.now += 2_000
    d.send(ev.Hangup("c1-advisor", d.now, CONGESTION))
    out = offer(d)
    assert d.machine.state is State.CLOSING
    settle = d.one(cmd.Settle, out)
    assert (settle.hold_id, settle.record.talk_s, settle.record.charge_start_ms) == (42, 0, None)
    assert (settle.record.cause, settle.record.side) == (Cause.NO_ADVISOR, Side.ADVISOR)
    assert settle.record.advisor is None
    assert [p.sounds for p in d.of(cmd.Play, out)] == [("advisor_unavailable", "goodbye")]
    [attempt] = d.one(cmd.RecordAttempts, out).attempts
    assert (attempt.outcome, attempt.ring_ms) == ("advisor_congestion", 2_000)


def test_no_free_advisor_at_all_closes_at_once_without_an_attempt() -> None:
    d = hunting()
    out = offer(d)
    assert d.one(cmd.Settle, out).record.cause is Cause.NO_ADVISOR
    assert not d.of(cmd.Dial) and not d.of(cmd.RecordAttempts)


def test_the_overall_timeout_cuts_the_last_attempt_and_ends_the_hunt() -> None:
    d = hunting()
    assert d.one(cmd.Dial, offer(d, ANNA, ring=20, overall=30)).timeout_s == 20
    d.now += 20_000
    d.send(ev.Hangup("c1-advisor", d.now, NO_ANSWER))
    d.now += 10
    dial = d.one(cmd.Dial, offer(d, BEN, ring=20, overall=30))
    assert dial.timeout_s == 10  # 9.99 s left, rounded up
    d.now += 9_990
    out = d.send(ev.Hangup("c1-advisor-2", d.now, NO_ANSWER))
    assert not d.of(cmd.ClaimAdvisors, out)
    assert d.one(cmd.Settle, out).record.cause is Cause.NO_ADVISOR
    assert d.machine.state is State.CLOSING


def test_a_leg_ended_without_a_cause_at_its_ring_timeout_did_not_answer() -> None:
    """Asterisk 16 reports an originate whose timeout passed with cause 0 (seen on the real
    Asterisk in tests/e2e/test_hunt_asterisk.py); before the timeout it is a failure."""
    d = hunting()
    offer(d, ANNA)
    d.now += 15_000
    d.send(ev.Hangup("c1-advisor", d.now, 0))
    offer(d, BEN)
    d.now += 1_000
    d.send(ev.Hangup("c1-advisor-2", d.now, 0))
    out = offer(d)
    outcomes = [a.outcome for a in d.one(cmd.RecordAttempts, out).attempts]
    assert outcomes == ["advisor_noanswer", "advisor_failed"]


def test_an_unreachable_advisor_is_skipped() -> None:
    d = hunting()
    dial = d.one(cmd.Dial, offer(d, ANNA))
    out = d.send(ev.CommandFailed(dial, "404 endpoint not found", d.now))
    assert d.one(cmd.ReleaseAdvisors, out).advisor_ids == {1}
    assert d.one(cmd.ClaimAdvisors, out).tried == {1}


def test_ring_all_bridges_the_first_to_answer_and_cancels_the_others_at_once() -> None:
    d = hunting()
    dials = d.of(cmd.Dial, offer(d, ANNA, BEN, CLEO))
    assert [x.channel for x in dials] == ["c1-advisor", "c1-advisor-2", "c1-advisor-3"]
    d.now += 1_000
    out = d.send(ev.AdvisorAnswered("c1-advisor-2", d.now))
    assert [h.channel for h in d.of(cmd.HangupChannel, out)] == ["c1-advisor", "c1-advisor-3"]
    assert d.one(cmd.Bridge, out).channels == ("chan-caller", "c1-advisor-2")
    d.now += 20  # the second answer, 20 ms later, and the cancelled legs' hang-ups
    assert d.send(ev.AdvisorAnswered("c1-advisor-3", d.now)) == []
    d.send(ev.Hangup("c1-advisor", d.now, 16))
    d.bridge("c1-advisor-2")
    assert d.machine.state is State.TALKING
    d.advance(10_000)
    out = d.send(ev.Hangup("c1-advisor-2", d.now))
    assert d.one(cmd.Settle, out).record.talk_s == 10
    outcomes = [a.outcome for a in d.one(cmd.RecordAttempts, out).attempts]
    assert outcomes == ["cancelled", "answered", "cancelled"]
    assert not d.machine.unexpected


def test_the_caller_leaving_while_they_ring_cancels_every_leg() -> None:
    d = hunting()
    offer(d, ANNA, BEN)
    d.now += 5_000
    out = d.send(ev.Hangup("chan-caller", d.now))
    assert [h.channel for h in d.of(cmd.HangupChannel, out)] == ["c1-advisor", "c1-advisor-2"]
    assert d.one(cmd.Settle, out).record.talk_s == 0
    assert [a.ring_ms for a in d.one(cmd.RecordAttempts, out).attempts] == [5_000, 5_000]
    assert d.machine.state is State.DONE


def test_a_claim_answered_after_the_caller_left_is_given_back() -> None:
    d = hunting()
    d.send(ev.Hangup("chan-caller", d.now))
    assert d.machine.state is State.DONE
    out = offer(d, ANNA)
    assert d.one(cmd.ReleaseAdvisors, out).advisor_ids == {1}
    assert not d.of(cmd.Dial)


def test_a_database_that_does_not_answer_the_claim_ends_the_call_uncharged() -> None:
    d = hunting()
    claim = d.one(cmd.ClaimAdvisors)
    out = d.send(ev.CommandFailed(claim, "database down", d.now))
    settle = d.one(cmd.Settle, out)
    assert (settle.record.cause, settle.record.talk_s) == (Cause.SERVICE_UNAVAILABLE, 0)
    assert d.machine.state is State.CLOSING


def test_shutdown_while_ringing_hangs_up_the_ringing_legs() -> None:
    d = hunting()
    offer(d, ANNA)
    out = d.send(ev.Shutdown(d.now))
    assert {h.channel for h in d.of(cmd.HangupChannel, out)} == {"c1-advisor", "chan-caller"}
    assert d.one(cmd.RecordAttempts, out).attempts[0].outcome == "cancelled"
    assert d.machine.state is State.DONE


def test_outside_the_opening_hours_the_caller_hears_closed_and_nothing_is_held() -> None:
    d = Driver()
    d.start()
    out = d.send(
        ev.NumberInfo(
            role=Role.ADVISOR, project_id=1, destination="PJSIP/a", card_id=5, closed=True
        )
    )
    assert d.machine.state is State.CLOSING
    assert [p.sounds for p in d.of(cmd.Play, out)] == [("closed", "goodbye")]
    assert not d.of(cmd.Authorize)
    out = d.played()
    settle = d.one(cmd.Settle, out)
    assert (settle.hold_id, settle.record.cause, settle.record.talk_s) == (None, Cause.CLOSED, 0)


LOGIN = ev.NumberInfo(role=Role.LOGIN, project_id=1, pin_length=4)


def test_the_login_number_takes_a_pin_and_says_which_way_it_switched() -> None:
    d = Driver()
    d.start("+498912345679")
    out = d.send(LOGIN)
    assert d.one(cmd.Play, out).sounds == ("enter_pin",)
    d.played()
    out = d.digits("1234")
    assert d.one(cmd.ToggleLogin, out) == cmd.ToggleLogin(1, "+4930123456", "1234")
    out = d.send(ev.LoginToggled("invalid"))
    assert d.one(cmd.Play, out).sounds == ("pin_invalid", "enter_pin")
    d.played()
    d.digits("4321")
    out = d.send(ev.LoginToggled("logged_out"))
    assert d.one(cmd.Play, out).sounds == ("logged_out", "goodbye")
    out = d.played()
    assert d.one(cmd.HangupChannel, out).channel == "chan-caller"
    assert not d.of(cmd.Settle) and not d.of(cmd.Authorize)
    assert d.machine.done and not d.machine.unexpected


def test_a_locked_line_hears_so_on_the_login_number() -> None:
    d = Driver()
    d.start("+498912345679")
    d.send(LOGIN)
    d.played()
    d.digits("1234")
    out = d.send(ev.LoginToggled("locked"))
    assert d.one(cmd.Play, out).sounds == ("pin_locked", "goodbye")


CHOOSE = ev.NumberInfo(
    role=Role.ADVISOR, project_id=1, destination="PJSIP/a", card_id=5, hunt=True, extensions=True
)


def choosing() -> Driver:
    d = Driver()
    d.start()
    d.send(CHOOSE)
    d.authorized(600)
    out = d.played()
    assert d.machine.state is State.CHOOSING
    assert d.one(cmd.Play, out).sounds == ("extension_offer",)
    return d


def test_an_extension_and_hash_ask_for_that_advisor_first() -> None:
    d = choosing()
    out = d.digits("1")  # over the prompt: it stops
    assert d.one(cmd.StopPlayback, out)
    out = d.digits("1#")
    assert d.one(cmd.ClaimAdvisors, out).extension == "11"
    d.one(cmd.Dial, offer(d, BEN))
    d.send(ev.Hangup("c1-advisor", d.now, BUSY))
    assert d.of(cmd.ClaimAdvisors)[-1] == cmd.ClaimAdvisors(ADVISOR_NO, frozenset({2}))


def test_nothing_typed_offers_the_group_after_five_seconds() -> None:
    d = choosing()
    d.played()
    assert not d.advance(4_999)
    out = d.advance(1)
    assert d.one(cmd.ClaimAdvisors, out).extension is None


def test_an_extension_nobody_free_has_says_so_while_the_group_rings() -> None:
    d = choosing()
    d.digits("99#")
    out = d.send(ev.AdvisorsOffered((ANNA,), 15, 60, 0, d.now, extension_missed=True))
    assert [p.sounds for p in d.of(cmd.Play, out)] == [("extension_unavailable",)]
    assert d.one(cmd.Dial, out).destination == "PJSIP/anna"


DEAR_ANNA = ev.Offered(1, "Anna", "PJSIP/anna", tariff_id=7)


def test_an_advisor_with_its_own_tariff_rates_the_call_before_the_bridge() -> None:
    d = hunting(credit_s=600)
    offer(d, DEAR_ANNA)
    out = d.send(ev.AdvisorAnswered("c1-advisor", d.now))
    assert d.one(cmd.RateForAdvisor, out) == cmd.RateForAdvisor(42, 1)
    assert not d.of(cmd.Bridge, out) and d.machine.state is State.RATING_ADVISOR
    out = d.send(ev.AdvisorRated(True, 200, d.now, price_per_minute=None))
    assert d.one(cmd.Play, out).sounds[:2] == ("remaining", "num/n3")  # 200 s: 3 minutes
    assert not d.of(cmd.Bridge, out)
    out = d.played()
    assert d.one(cmd.Bridge, out).channels == ("chan-caller", "c1-advisor")
    d.bridge()
    bridged = d.now
    out = d.advance(200_000)
    settle = d.one(cmd.Settle, out)
    assert (settle.record.charge_start_ms, settle.record.talk_s) == (bridged, 200)
    assert settle.record.ended_ms == bridged + 200_000  # the advisor's tariff's end, not 600 s


def test_an_unchanged_rating_bridges_at_once_with_the_hold_as_it_was() -> None:
    d = hunting(credit_s=600)
    offer(d, DEAR_ANNA)
    d.send(ev.AdvisorAnswered("c1-advisor", d.now))
    out = d.send(ev.AdvisorRated(False, 0, d.now))
    assert d.one(cmd.Bridge, out) and not d.of(cmd.Play, out)
    d.bridge()
    assert d.machine.ctx.money.affordable_s == 600


def test_a_rating_that_cannot_be_done_drops_the_advisor_and_charges_nothing() -> None:
    d = hunting(credit_s=600)
    offer(d, DEAR_ANNA)
    out = d.send(ev.AdvisorAnswered("c1-advisor", d.now))
    failed = ev.CommandFailed(d.one(cmd.RateForAdvisor, out), "database down", d.now)
    out = d.send(failed)
    assert cmd.HangupChannel("c1-advisor") in out
    assert d.one(cmd.Play, out).sounds == ("service_unavailable",)
    settle = d.one(cmd.Settle, out)
    assert settle.record.charge_start_ms is None and settle.record.talk_s == 0
    assert settle.record.cause is Cause.SERVICE_UNAVAILABLE
    assert d.machine.state is State.CLOSING and not d.of(cmd.Bridge)


def test_an_advisor_tariff_charging_after_its_announcement_says_its_price_in_the_bridge() -> None:
    d = hunting(credit_s=600)
    offer(d, DEAR_ANNA)
    d.send(ev.AdvisorAnswered("c1-advisor", d.now))
    out = d.send(ev.AdvisorRated(True, 501, d.now, 29_900, after_announcement=True))
    assert "tariff" not in d.one(cmd.Play, out).sounds  # its price is said in the bridge
    d.played()
    out = d.bridge()
    play = d.one(cmd.Play, out)
    assert play.bridge == "c1-bridge" and play.sounds[0] == "tariff"
    assert "num/n2" in play.sounds and "num/n99" in play.sounds  # 2,99 EUR a minute
    assert d.machine.state is State.ANNOUNCING_TARIFF
    d.played()
    started = d.now
    assert d.machine.state is State.TALKING
    out = d.advance(501_000)
    assert d.one(cmd.Settle, out).record.charge_start_ms == started
