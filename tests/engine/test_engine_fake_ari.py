"""The engine end to end against the fake ARI: REST requests, ledger and call records."""

from __future__ import annotations

import asyncio

from cards.domain import CustomerKind
from cards.services import activation, customers, ledger, reservations
from testbed.astro import ADVISOR_NO, CARD_NO, FREEPHONE_NO
from testbed.engine_world import CALLER, MOBILE_CALLER, World, eventually
from testbed.flows import activate, call_entries, connect, records


async def test_card_number_activation_binds_and_announces(world: World) -> None:
    ari = world.ari
    await ari.caller_dials("c1", CARD_NO, "030 123456")
    await eventually(lambda: any("enter_pin" in m for m in world.plays()), what="PIN prompt")
    assert ari.made("POST", "/channels/c1/answer")
    assert world.plays()[0] == "sound:minutecard/de/welcome,sound:minutecard/de/enter_pin"
    await ari.dtmf("c1", world.card.pin)
    await eventually(lambda: any("balance_is" in m for m in world.plays()), what="balance")
    [balance] = [m for m in world.plays() if "balance_is" in m]
    assert balance == (
        "sound:minutecard/de/activated,sound:minutecard/de/balance_is,"
        "sound:minutecard/de/num/n10,sound:minutecard/de/minutes"
    )
    await eventually(lambda: any("press_1" in m for m in world.plays()), what="press 1")
    project = 1
    assert (await activation.card_for_line(world.db, project, CALLER)) is not None


async def test_wrong_pin_three_times(world: World) -> None:
    ari = world.ari
    await ari.caller_dials("c1", CARD_NO, CALLER)
    for _ in range(3):
        await ari.dtmf("c1", "00000000")
        await world.quiet()
    await eventually(lambda: ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert sum("pin_invalid" in m for m in world.plays()) == 3
    assert await activation.card_for_line(world.db, 1, CALLER) is None


async def test_advisor_call_warns_in_bridge_and_ends_on_the_second(world: World) -> None:
    await activate(world)
    answered = await connect(world)
    assert any("remaining" in m and "num/n10" in m for m in world.plays())
    assert world.ari.bridges["c1-bridge"] == ["c1", "c1-advisor"]
    await world.advance(480_000)
    await eventually(lambda: world.ari.made("POST", "/bridges/c1-bridge/play/"), what="warning")
    warning = world.ari.made("POST", "/bridges/c1-bridge/play/")[0]
    # "Hinweis: Ihr Guthaben reicht noch für zwei Minuten": the 120 s lead, said as it is.
    assert warning.params["media"] == (
        "sound:minutecard/de/warning,sound:minutecard/de/num/n2,sound:minutecard/de/minutes"
    )
    assert warning.at_ms == answered + 480_000
    await world.advance(120_000)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
    assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 600_000
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="caller hang-up")
    [entry] = await call_entries(world)
    assert (entry.amount, entry.balance_after) == (-600, 0)
    [record] = await records(world)
    assert (record.billed_seconds, record.charged, record.hangup_side) == (600, 600, "engine")


async def test_caller_hangs_up_first_is_billed(world: World) -> None:
    await activate(world)
    await connect(world)
    world.clock.now += 61_400
    await world.ari.hang_up("c1")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="advisor")
    await world.quiet()
    [entry] = await call_entries(world)
    assert entry.amount == -62
    [record] = await records(world)
    assert record.hangup_side == "caller"


async def test_busy_advisor_charges_nothing(world: World) -> None:
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, CALLER)
    await eventually(lambda: world.ari.made("POST", "/channels/c1-advisor"), what="dial")
    await world.ari.advisor_busy("c1-advisor")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert any("advisor_unavailable" in m for m in world.plays())
    assert await call_entries(world) == []
    assert await reservations.available(world.db, world.card.card_id) == 600
    [record] = await records(world)
    assert (record.hangup_cause, record.charged) == ("advisor_busy:q850=17", 0)


async def test_0800_refuses_a_mobile_caller(world: World) -> None:
    await world.ari.caller_dials("c1", FREEPHONE_NO, MOBILE_CALLER)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert world.plays() == ["sound:minutecard/de/number_not_reachable"]
    [record] = await records(world)
    assert (record.hangup_cause, record.charged) == ("caller_not_accepted", 0)


async def test_unbound_line_activates_inline_and_connects(world: World) -> None:
    ari = world.ari
    await ari.caller_dials("c1", ADVISOR_NO, CALLER)
    await eventually(lambda: any("not_activated" in m for m in world.plays()), what="prompt")
    await ari.dtmf("c1", world.card.pin)
    await eventually(lambda: ari.made("POST", "/channels/c1-advisor"), what="dial")


async def test_anonymous_caller_hears_clir_required(world: World) -> None:
    await world.ari.caller_dials("c1", ADVISOR_NO, "anonymous")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert world.plays() == ["sound:minutecard/de/clir_required"]


async def test_a_postpaid_card_talks_into_its_credit_limit(world: World) -> None:
    """600 s on the card and a 120 s credit limit: the engine authorises 720 s with the same
    hold, ends the call there, and the card is 120 s below zero (the customer's to settle)."""
    await customers.create(world.db, "astro", "Kanzlei Roth", CustomerKind.POSTPAID,
                           credit_limit=120, threshold=0)  # fmt: skip
    await customers.attach(world.db, world.card.serial, "Kanzlei Roth")
    await activate(world)
    answered = await connect(world)
    await world.advance(720_000)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
    assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 720_000
    [entry] = await call_entries(world)
    assert (entry.amount, entry.balance_after) == (-720, -120)


async def test_top_up_during_the_call_moves_the_end(world: World) -> None:
    await activate(world)
    answered = await connect(world)
    await ledger.topup(world.db, world.card.card_id, 300, actor="test")
    await world.quiet()
    assert world.ari.made("DELETE", "/channels/") == []
    await world.advance(600_000)
    assert not world.ari.made("DELETE", "/channels/c1-advisor")
    await world.advance(300_000)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
    assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 900_000
    [entry] = await call_entries(world)
    assert entry.amount == -900


async def test_websocket_drop_and_reconcile_settles_a_call_gone_meanwhile(world: World) -> None:
    """Talked 12 s when the events were lost, gone when they came back 30 s later: billed to the
    last instant the engine knew it was up, 12 s (the gap is not charged on a guess)."""
    await activate(world)
    await connect(world)
    await world.advance(12_000)
    world.ari.refuse_ws = True
    await world.ari.drop_ws()
    await eventually(lambda: world.engine.lost_at_ms is not None, what="loss heard")
    world.clock.now += 30_000
    world.ari.channels.pop("c1")
    world.ari.refuse_ws = False
    await eventually(lambda: world.ari.connects == 2, what="reconnect")
    await eventually(lambda: world.ari.made("GET", "/channels"), what="reconcile")
    await eventually(lambda: not world.engine.calls, what="call ended")
    [record] = await records(world)
    assert record.hangup_cause == "gone_while_disconnected"
    assert record.billed_seconds == 12


async def test_past_max_calls_a_new_call_hears_congestion(world: World) -> None:
    """With ``max_calls = 1`` a second call while one talks is hung up with congestion, never
    answered; the live call goes on and the next call after it is taken again."""
    world.engine.config.max_calls = 1
    await activate(world)
    await connect(world)
    await world.ari.caller_dials("c2", ADVISOR_NO, "040111222")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c2"), what="refused")
    assert world.ari.made("DELETE", "/channels/c2")[0].params["reason"] == "congestion"
    assert not world.ari.made("POST", "/channels/c2/answer")
    assert list(world.engine.calls) == ["c1"]
    await world.ari.hang_up("c1")
    await eventually(lambda: not world.engine.calls, what="first call ended")
    await world.ari.caller_dials("c3", ADVISOR_NO, CALLER)
    await eventually(lambda: world.ari.made("POST", "/channels/c3-advisor"), what="taken")


async def test_drain_refuses_new_calls_and_settles_live_ones(world: World) -> None:
    await activate(world)
    await connect(world)
    world.clock.now += 20_000
    drain = asyncio.create_task(world.engine.drain(limit_ms=10))
    await eventually(lambda: not world.engine.accepting, what="draining")
    await world.ari.caller_dials("c2", ADVISOR_NO, CALLER)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c2"), what="refused")
    assert world.ari.made("DELETE", "/channels/c2")[0].params["reason"] == "congestion"
    await drain
    await world.quiet()
    [entry] = await call_entries(world)
    assert entry.amount == -20
