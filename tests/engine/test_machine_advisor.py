"""The advisor-number flow on the sans-IO machine with the default 120 s lead and a fake clock."""

from __future__ import annotations

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from rating import CallerClass, ChargingStart
from tests.engine.driver import Driver, minutes_tariff, money_tariff

ADVISOR = ev.NumberInfo(role="advisor", project_id=1, destination="PJSIP/advisor1", card_id=5)
MONEY = ev.NumberInfo(
    role="advisor", project_id=1, destination="PJSIP/advisor1", card_id=5, unit="money"
)


def sounds(out: list[cmd.Command]) -> list[str]:
    return [s for c in out if isinstance(c, cmd.Play) for s in c.sounds]


def bridge_plays(d: Driver) -> list[cmd.Play]:
    return [p for p in d.of(cmd.Play) if p.bridge]


def test_full_call_warns_both_legs_at_exhaustion_minus_120_and_ends_on_the_second() -> None:
    d = Driver()
    out = d.connect(ADVISOR, minutes_tariff(), credit=600)
    answered = d.now
    assert d.one(cmd.Bridge, out).channels == ("chan-caller", "c1-advisor")
    assert d.one(cmd.Reserve).amount == 600
    assert d.timers["c1:warn"] == answered + 480_000
    assert d.timers["c1:end"] == answered + 600_000
    d.advance(480_000)
    [warning] = bridge_plays(d)
    assert warning.sounds == ("warning_two_minutes",)
    assert warning.bridge == "c1-bridge"
    out = d.advance(120_000)
    assert d.now == answered + 600_000
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    settle = d.one(cmd.Settle, out)
    assert (settle.reservation_id, settle.record["used"]) == (42, 600)
    assert settle.record["billed_seconds"] == 600
    assert settle.record["ended_ms"] == answered + 600_000
    assert settle.record["hangup_side"] == "engine"
    assert sounds(out) == ["credit_exhausted"]
    out = d.played()
    assert d.one(cmd.HangupChannel, out).channel == "chan-caller"
    assert d.call.done


def test_announces_remaining_minutes_before_dialing() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.send(ev.RatingReady(minutes_tariff(), 7, CallerClass.FIXED, 21 * 60 + 30))
    out = d.send(ev.Reserved(42))
    assert sounds(out) == ["remaining", "num/n21", "minutes", "credit_suffix"]
    assert not d.of(cmd.Dial)
    assert d.one(cmd.Dial, d.played()).destination == "PJSIP/advisor1"


def test_call_starting_with_90_seconds_is_warned_at_once() -> None:
    d = Driver()
    out = d.connect(ADVISOR, minutes_tariff(), credit=90)
    assert [p.sounds for p in out if isinstance(p, cmd.Play)] == [("warning_two_minutes",)]
    assert "c1:warn" not in d.timers
    assert d.timers["c1:end"] == d.now + 90_000


def test_caller_hangs_up_first_and_is_billed_per_tariff() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff("60/60"), credit=600)
    d.now += 61_200
    out = d.send(ev.Hangup("chan-caller", d.now))
    settle = d.one(cmd.Settle, out)
    assert settle.record["billed_seconds"] == 120
    assert settle.record["used"] == 120
    assert settle.record["hangup_side"] == "caller"
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    assert d.one(cmd.DestroyBridge, out)
    assert d.call.done


def test_advisor_hangs_up_first() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    d.now += 30_000
    out = d.send(ev.Hangup("c1-advisor", d.now))
    assert d.one(cmd.Settle, out).record["hangup_side"] == "advisor"
    assert d.one(cmd.Settle, out).record["used"] == 30
    assert sounds(out) == ["goodbye"]
    assert d.one(cmd.HangupChannel, d.played()).channel == "chan-caller"


def test_busy_or_unanswered_advisor_charges_nothing() -> None:
    for cause in ("busy", "noanswer"):
        d = Driver()
        d.start()
        d.send(ADVISOR)
        d.send(ev.RatingReady(minutes_tariff(), 7, CallerClass.FIXED, 600))
        d.send(ev.Reserved(42))
        d.played()
        out = d.send(ev.AdvisorFailed(cause))
        assert d.one(cmd.Release, out).reservation_id == 42
        assert sounds(out) == ["advisor_unavailable", "goodbye"]
        out = d.played()
        settle = d.one(cmd.Settle, out)
        assert settle.reservation_id is None
        assert settle.record["used"] == 0
        assert settle.record["hangup_cause"] == f"advisor_{cause}"


def test_caller_hangs_up_while_dialing_releases_and_drops_the_advisor_leg() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.send(ev.RatingReady(minutes_tariff(), 7, CallerClass.FIXED, 600))
    d.send(ev.Reserved(42))
    d.played()
    out = d.send(ev.Hangup("chan-caller", d.now))
    assert d.one(cmd.Release, out).reservation_id == 42
    assert d.one(cmd.HangupChannel, out).channel == "c1-advisor"
    assert d.one(cmd.Settle, out).reservation_id is None


def test_less_than_one_increment_is_no_credit() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    out = d.send(ev.RatingReady(minutes_tariff("60/60"), 7, CallerClass.FIXED, 59))
    assert sounds(out) == ["no_credit", "goodbye"]
    assert not d.of(cmd.Reserve)
    assert d.one(cmd.Settle, d.played()).record["hangup_cause"] == "no_credit"


def test_reservation_refused_is_no_credit() -> None:
    d = Driver()
    d.start()
    d.send(ADVISOR)
    d.send(ev.RatingReady(minutes_tariff(), 7, CallerClass.FIXED, 600))
    assert sounds(d.send(ev.Reserved(None))) == ["no_credit", "goodbye"]


def test_refused_caller_on_0800_is_told_and_charged_nothing() -> None:
    d = Driver()
    d.start()
    out = d.send(ev.NumberInfo(role="advisor", project_id=1, accepts_caller=False))
    assert sounds(out) == ["number_not_reachable"]
    settle = d.one(cmd.Settle, d.played())
    assert (settle.reservation_id, settle.record["hangup_cause"]) == (None, "caller_not_accepted")


def test_unbound_line_activates_inline_then_rates() -> None:
    d = Driver()
    d.start()
    out = d.send(ev.NumberInfo(role="advisor", project_id=1, destination="PJSIP/a"))
    assert sounds(out) == ["not_activated", "enter_pin"]
    d.digits("12345678")
    out = d.send(ev.ActivationDone("activated", card_id=9))
    assert sounds(out) == ["activated"]
    assert d.one(cmd.Rate, out).card_id == 9


def test_money_project_announces_tariff_before_dialing() -> None:
    d = Driver()
    d.start()
    d.send(MONEY)
    d.send(ev.RatingReady(money_tariff(price=19_900), 7, CallerClass.FIXED, 100_000))
    out = d.send(ev.Reserved(42))
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
    tariff = money_tariff(price=6_000, charging_start=ChargingStart.AFTER_ANNOUNCEMENT)
    out = d.connect(MONEY, tariff, credit=60_000)
    assert [p.sounds[0] for p in out if isinstance(p, cmd.Play)] == ["tariff"]
    assert "c1:end" not in d.timers
    d.now += 4_000
    d.played()
    assert d.call.ctx.origin_ms == d.now
    assert d.timers["c1:end"] == d.now + 600_000
    d.now += 10_000
    settle = d.one(cmd.Settle, d.send(ev.Hangup("chan-caller", d.now)))
    assert settle.record["billed_seconds"] == 10


def test_free_seconds_then_billed() -> None:
    for talk, billed in ((9_000, 0), (11_500, 60)):
        d = Driver()
        tariff = minutes_tariff("60/60", charging_start=ChargingStart.FREE, free_seconds=10)
        d.connect(ADVISOR, tariff, credit=600)
        d.now += talk
        settle = d.one(cmd.Settle, d.send(ev.Hangup("chan-caller", d.now)))
        assert settle.record["billed_seconds"] == billed


def test_top_up_mid_call_moves_warning_and_end() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    answered = d.now
    d.advance(500_000)
    assert bridge_plays(d)
    out = d.send(ev.CreditChanged(600, d.now))
    assert d.one(cmd.ExtendHold, out).amount == 1_200
    d.send(ev.HoldExtended(1_200, True, d.now))
    assert d.timers["c1:end"] == answered + 1_200_000
    assert d.timers["c1:warn"] == answered + 1_080_000
    d.advance(600_000)
    assert len(bridge_plays(d)) == 2
    out = d.advance(100_000)
    assert d.one(cmd.Settle, out).record["used"] == 1_200


def test_refused_extension_keeps_the_old_limit() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    end = d.timers["c1:end"]
    d.send(ev.CreditChanged(300, d.now))
    d.send(ev.HoldExtended(900, False, d.now))
    assert d.timers["c1:end"] == end


def test_checkpoints_record_usage() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    d.advance(65_000)
    assert [c.used for c in d.of(cmd.Checkpoint)] == [30, 60]


def test_shutdown_mid_call_settles() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    d.now += 45_000
    out = d.send(ev.Shutdown(d.now))
    settle = d.one(cmd.Settle, out)
    assert settle.record["used"] == 45
    assert {c.channel for c in d.of(cmd.HangupChannel, out)} == {"chan-caller", "c1-advisor"}
    assert len(d.of(cmd.Finished, out)) == 1
    assert d.call.done


def test_second_hangup_after_done_is_ignored() -> None:
    d = Driver()
    d.connect(ADVISOR, minutes_tariff(), credit=600)
    d.send(ev.Hangup("chan-caller", d.now + 1_000))
    assert d.send(ev.Hangup("c1-advisor", d.now + 1_010)) == []
