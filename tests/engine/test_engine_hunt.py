"""A group of three advisors end to end against the fake ARI and the fake clock (issue 23): the
first is busy, the second does not answer within the ring timeout, the third answers; the
caller is billed from the third's bridge only; the call record and its attempts say so; the
advisors' state in the database follows the call."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from admin_cli.main import main
from cards.models import Advisor, CallAttempt, Reservation
from cards.services import advisor_report, advisors, hours, hunt_groups, projects, reports
from testbed.astro import ADVISOR_NO, SECRET
from testbed.engine_world import World, eventually
from testbed.flows import activate, call_entries, records

NO_ANSWER = 19
LOGIN_NO = "+498912345679"


async def group_of_three(world: World, strategy: str = "ordered") -> None:
    for name in ("Anna", "Ben", "Cleo"):
        await advisors.add_advisor(world.db, "astro", name, f"PJSIP/{name.lower()}", secret=SECRET)
    timing = hunt_groups.Timing(ring_timeout_s=15, overall_timeout_s=60, wrapup_s=30)
    await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben", "Cleo"], strategy, timing)


def wall(world: World) -> datetime:
    ms = world.clock.wall_ms()
    return datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)


async def states(world: World) -> list[tuple[object, object]]:
    return [(a["name"], a["state"]) for a in await advisors.api_view(world.db, 1)]


async def dialed(world: World, channel: str) -> dict[str, str]:
    await eventually(lambda: world.ari.made("POST", f"/channels/{channel}"), what=channel)
    return world.ari.made("POST", f"/channels/{channel}")[0].params


async def test_busy_no_answer_then_the_third_is_bridged_and_billed_from_its_bridge(
    world: World,
) -> None:
    await group_of_three(world)
    await activate(world)
    ari = world.ari
    await ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    first = await dialed(world, "c1-advisor")
    assert (first["endpoint"], first["timeout"]) == ("PJSIP/anna", "15")
    assert await states(world) == [("Anna", "ringing"), ("Ben", "available"), ("Cleo", "available")]
    world.clock.now += 300
    await ari.advisor_busy("c1-advisor")
    second = await dialed(world, "c1-advisor-2")
    assert second["endpoint"] == "PJSIP/ben"
    assert await states(world) == [("Anna", "available"), ("Ben", "ringing"), ("Cleo", "available")]
    world.clock.now += 15_000
    await ari._hangup("c1-advisor-2", NO_ANSWER)  # Asterisk's originate timeout
    third = await dialed(world, "c1-advisor-3")
    assert (third["endpoint"], third["appArgs"]) == ("PJSIP/cleo", "advisor,c1")
    world.clock.now += 2_000
    await ari.advisor_answers("c1-advisor-3", "c1")
    await eventually(lambda: ari.made("POST", "/addChannel"), what="bridge")
    await world.quiet()
    assert ari.bridges["c1-bridge"] == ["c1", "c1-advisor-3"]
    assert await states(world) == [("Anna", "available"), ("Ben", "available"), ("Cleo", "talking")]
    await world.advance(42_000)
    await ari.hang_up("c1")
    await eventually(lambda: world.engine.calls == {}, what="call ended")
    await world.quiet()
    [entry] = await call_entries(world)
    assert entry.amount == -42  # 42 card seconds: the 17.3 s of ringing cost nothing
    [record] = await records(world)
    assert (record.advisor, record.billed_seconds) == ("Cleo", 42)
    assert record.charge_start_at is not None
    async with world.db.read() as session:
        attempts = (await session.scalars(select(CallAttempt).order_by(CallAttempt.position))).all()
    assert [(a.advisor, a.outcome, a.ring_ms) for a in attempts] == [
        ("Anna", "advisor_busy", 300),
        ("Ben", "advisor_noanswer", 15_000),
        ("Cleo", "answered", 2_000),
    ]
    assert all(a.call_id == "c1" for a in attempts)
    ended = wall(world)
    view = {a["name"]: a for a in await advisors.api_view(world.db, 1, ended)}
    assert view["Cleo"]["calls_taken"] == 1
    assert view["Cleo"]["state"] == "wrap_up"  # 30 s wrap-up after the call
    later = await advisors.api_view(world.db, 1, ended + timedelta(seconds=30))
    assert [a["state"] for a in later] == ["available"] * 3


async def test_nobody_free_hears_advisor_unavailable_and_nothing_is_charged(world: World) -> None:
    await group_of_three(world)
    await activate(world)
    async with world.db.transaction() as session:
        await session.execute(update(Advisor).values(logged_in=False))
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert any("advisor_unavailable" in m for m in world.plays())
    assert not world.ari.made("POST", "/channels/c1-advisor")
    assert await call_entries(world) == []
    [record] = await records(world)
    assert (record.billed_seconds, record.charged, record.advisor) == (0, 0, None)
    assert record.hangup_cause == "no_advisor"


async def test_outside_the_opening_hours_closed_is_heard_and_nothing_held(world: World) -> None:
    today = datetime.now(UTC).date()
    closed_days = [f"{today + timedelta(days=d)} closed" for d in (-1, 0, 1)]
    await hours.set_hours(world.db, ADVISOR_NO, ["mon-sun 00:00-24:00"], closed_days)
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="hang-up")
    assert world.plays()[0] == "sound:minutecard/de/closed,sound:minutecard/de/goodbye"
    assert not world.ari.made("POST", "/channels/c1-advisor")
    [record] = await records(world)
    assert (record.hangup_cause, record.charged) == ("closed", 0)
    async with world.db.read() as session:
        assert (await session.scalars(select(Reservation))).all() == []


async def talk(world: World, call: str, advisor_leg: str, seconds: int) -> None:
    await world.ari.advisor_answers(advisor_leg, call)
    await eventually(lambda: world.ari.bridges.get(f"{call}-bridge") == [call, advisor_leg],
                     what="bridged")  # fmt: skip
    await world.quiet()
    await world.advance(seconds * 1000)
    await world.ari.hang_up(call)
    await eventually(lambda: world.engine.calls == {}, what="call ended")
    await world.quiet()


async def test_the_month_report_counts_who_talked_and_reconciles_with_the_ledger(
    world: World, monkeypatch, capsys, tmp_path
) -> None:
    for name, payout in (("Anna", 8_000), ("Ben", 7_500)):
        await advisors.add_advisor(world.db, "astro", name, f"PJSIP/{name.lower()}",
                                   secret=SECRET, payout=payout)  # fmt: skip
    await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], "ordered",
                                hunt_groups.Timing(15, 60, 0))  # fmt: skip
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await dialed(world, "c1-advisor")
    await talk(world, "c1", "c1-advisor", 30)
    await world.ari.caller_dials("c2", ADVISOR_NO, "+4930123456")
    await dialed(world, "c2-advisor")
    await world.ari.advisor_busy("c2-advisor")
    await dialed(world, "c2-advisor-2")
    await talk(world, "c2", "c2-advisor-2", 90)
    [first, _] = await records(world)
    month = first.ended_at.strftime("%Y-%m")
    unit, lines = await advisor_report.advisor_month(world.db, "astro", month)
    assert unit == "minutes"
    assert [(x.advisor, x.calls, x.talked_s, x.revenue, x.payout) for x in lines] == [
        ("Anna", 1, 30, 30, 4_000),  # 30 s × 0.80 EUR/min
        ("Ben", 1, 90, 90, 11_250),  # 90 s × 0.75 EUR/min
    ]
    keys = {f"call:{c}" for x in lines for c in x.call_ids}
    entries = [e for e in await call_entries(world) if e.idempotency_key in keys]
    assert -sum(e.amount for e in entries) == sum(x.revenue for x in lines)
    monkeypatch.setenv("MINUTECARD_DATABASE_URL", str(world.db.url))
    args = ["advisor", "report", "--project", "astro", "--month", month]
    assert await asyncio.to_thread(main, [*args, "--advisor", "Ben", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"advisor": "Ben", "calls": 1, "talked": 90, "revenue": 90, "payout": 11_250}
    ]
    assert await asyncio.to_thread(main, [*args, "--csv", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "advisor;calls;talked;revenue;payout;revenue_unit",
        "Anna;1;30;30;4000;minutes",
        "Ben;1;90;90;11250;minutes",
    ]
    paper = tmp_path / "ben.pdf"
    pdf_args = [*args, "--advisor", "Ben", "--pdf", str(paper)]
    assert await asyncio.to_thread(main, pdf_args) == 0
    text = subprocess.run(["pdftotext", "-layout", str(paper), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert f"Abrechnung {month[5:]}/{month[:4]} für Ben" in text
    assert "1:30 min" in text and "0,75 EUR" in text and "1,1250 EUR" in text
    assert await asyncio.to_thread(main, [*args, "--pdf", str(paper)]) == 2


async def test_an_advisor_logs_out_and_in_by_calling_the_login_number(world: World) -> None:
    issued = await advisors.add_advisor(world.db, "astro", "Anna", "PJSIP/anna", secret=SECRET)
    assert issued.pin is not None
    await projects.add_number(world.db, "astro", LOGIN_NO, "login")
    steps = (("c1", "logged_out", "logged_out"), ("c2", "available", "logged_in"))
    for n, (call, state, prompt) in enumerate(steps, 1):
        await world.ari.caller_dials(call, LOGIN_NO, "+4917012345678")
        await eventually(
            lambda n=n: sum("enter_pin" in m for m in world.plays()) == n, what="PIN prompt"
        )
        await world.ari.dtmf(call, issued.pin)
        await eventually(lambda c=call: world.ari.made("DELETE", f"/channels/{c}"), what="end")
        assert f"sound:minutecard/de/{prompt},sound:minutecard/de/goodbye" in world.plays()
        assert [a["state"] for a in await advisors.api_view(world.db, 1)] == [state]
    history = await reports.history(world.db, project_ref="astro")
    assert [h.actor for h in history if h.action.startswith("advisor_log")] == [
        "phone +4917012345678"
    ] * 2


async def test_a_caller_types_an_extension_and_reaches_that_advisor(world: World) -> None:
    for name, ext in (("Anna", "11"), ("Ben", "12")):
        await advisors.add_advisor(world.db, "astro", name, f"PJSIP/{name.lower()}",
                                   secret=SECRET, ext=ext)  # fmt: skip
    timing = hunt_groups.Timing(15, 60, 0, extensions=True)
    await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], "ordered", timing)
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: any("extension_offer" in m for m in world.plays()), what="offer")
    await world.quiet()
    await world.ari.dtmf("c1", "12#")
    assert (await dialed(world, "c1-advisor"))["endpoint"] == "PJSIP/ben"
