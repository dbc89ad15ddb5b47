"""Advisor state in the database (issue 23): a claimed advisor is offered to no other call of
any engine, a released one is, after its wrap-up; a number without a group rings its own dial
string once; the group's strategy and timing come with the offer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from cards.clock import utcnow
from cards.db import Database
from cards.errors import InvalidInput, NotFound
from cards.models import CallAttempt
from cards.services import advisor_claims, advisors, calls, hunt_groups
from cards.services.advisor_claims import AttemptRow
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

ADVISOR_NUMBER = "+498912345671"


async def line_of(db: Database, *names: str, strategy: str = "ordered", wrapup: int = 0) -> None:
    await project_with_cards(db)
    for name in names:
        await advisors.add_advisor(db, "astro", name, f"PJSIP/{name.lower()}", secret=SECRET)
    timing = hunt_groups.Timing(15, 60, wrapup)
    await hunt_groups.set_group(db, ADVISOR_NUMBER, list(names), strategy, timing)


def names(offer: advisor_claims.Offer) -> list[str]:
    return [c.name for c in offer.candidates]


async def test_a_number_whose_group_was_taken_away_offers_nobody(db: Database) -> None:
    await line_of(db, "Anna")
    await hunt_groups.clear_group(db, ADVISOR_NUMBER)
    assert (await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset())).candidates == ()


async def test_a_ringing_or_talking_advisor_is_offered_to_no_other_call(db: Database) -> None:
    await line_of(db, "Anna", "Ben")
    one = await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset())
    assert names(one) == ["Anna"] and (one.ring_timeout_s, one.overall_timeout_s) == (15, 60)
    two = await advisor_claims.claim(db, "c2", ADVISOR_NUMBER, frozenset())
    assert names(two) == ["Ben"]
    [anna], [ben] = one.candidates, two.candidates
    assert anna.advisor_id is not None and ben.advisor_id is not None
    await advisor_claims.answered(db, "c1", anna.advisor_id)
    three = await advisor_claims.claim(db, "c3", ADVISOR_NUMBER, frozenset())
    assert three.candidates == ()
    states = [(a["name"], a["state"]) for a in await advisors.api_view(db, 1)]
    assert states == [("Anna", "talking"), ("Ben", "ringing")]
    # Another call's release never frees them.
    await advisor_claims.release(db, "c3", frozenset({anna.advisor_id, ben.advisor_id}))
    assert names(await advisor_claims.claim(db, "c4", ADVISOR_NUMBER, frozenset())) == []
    await advisor_claims.release(db, "c2", frozenset({ben.advisor_id}))
    assert names(await advisor_claims.claim(db, "c5", ADVISOR_NUMBER, frozenset())) == ["Ben"]


async def test_the_talker_waits_its_wrap_up_and_counts_the_call(db: Database) -> None:
    await line_of(db, "Anna", "Ben", wrapup=30)
    now = utcnow()
    one = await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset(), now=now)
    [anna] = one.candidates
    assert anna.advisor_id is not None and one.wrapup_s == 30
    await advisor_claims.answered(db, "c1", anna.advisor_id, now=now)
    row = AttemptRow(anna.advisor_id, "Anna", "PJSIP/anna", "answered", now, 4_000)
    await advisor_claims.finish(db, "c1", [row], answered=anna.advisor_id, wrapup_s=30, now=now)
    async with db.read() as session:
        [stored] = (await session.scalars(select(CallAttempt))).all()
    assert (stored.call_id, stored.advisor, stored.outcome, stored.ring_ms) == (
        "c1",
        "Anna",
        "answered",
        4_000,
    )
    soon = now + timedelta(seconds=29)
    offer = await advisor_claims.claim(db, "c2", ADVISOR_NUMBER, frozenset(), now=soon)
    assert names(offer) == ["Ben"]
    later = now + timedelta(seconds=30)
    offer = await advisor_claims.claim(db, "c3", ADVISOR_NUMBER, frozenset(), now=later)
    assert names(offer) == ["Anna"]
    [listed] = [a for a in await advisors.api_view(db, 1, later) if a["name"] == "Anna"]
    assert listed["calls_taken"] == 1


async def test_a_hunt_never_offers_the_same_advisor_twice(db: Database) -> None:
    await line_of(db, "Anna", "Ben", "Cleo", strategy="round-robin")
    tried: set[int] = set()
    offered = []
    for _ in range(4):
        offer = await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset(tried))
        offered += names(offer)
        tried |= {c.advisor_id for c in offer.candidates if c.advisor_id is not None}
        await advisor_claims.release(db, "c1", frozenset(tried))
    assert offered == ["Anna", "Ben", "Cleo"]
    # Round-robin remembers: the next call starts after Cleo, the one offered last.
    offer = await advisor_claims.claim(db, "c2", ADVISOR_NUMBER, frozenset())
    assert names(offer) == ["Anna"]
    offer = await advisor_claims.claim(db, "c3", ADVISOR_NUMBER, frozenset())
    assert names(offer) == ["Ben"]


async def test_ring_all_claims_every_free_advisor(db: Database) -> None:
    await line_of(db, "Anna", "Ben", "Cleo", strategy="ring-all")
    await advisor_claims.claim(db, "c0", ADVISOR_NUMBER, frozenset({2, 3}))
    offer = await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset())
    assert names(offer) == ["Ben", "Cleo"]


async def test_two_engines_claiming_at_once_never_share_an_advisor(
    db_url: str, db: Database
) -> None:
    await line_of(db, "Anna")
    engines = [Database(db_url) for _ in range(2)]
    try:
        offers = await asyncio.gather(
            *(
                advisor_claims.claim(e, f"call-{i}", ADVISOR_NUMBER, frozenset())
                for i, e in enumerate(engines * 5)
            )
        )
    finally:
        for engine in engines:
            await engine.close()
    assert sum(len(o.candidates) for o in offers) == 1


async def test_group_settings_are_checked(db: Database) -> None:
    await line_of(db, "Anna")
    with pytest.raises(InvalidInput, match="strategy"):
        await hunt_groups.set_group(db, ADVISOR_NUMBER, ["Anna"], "random", hunt_groups.Timing())
    with pytest.raises(InvalidInput, match="overall timeout"):
        await hunt_groups.set_group(
            db, ADVISOR_NUMBER, ["Anna"], "ordered", hunt_groups.Timing(30, 20, 0)
        )
    with pytest.raises(InvalidInput, match="once"):
        await hunt_groups.set_group(
            db, ADVISOR_NUMBER, ["Anna", "Anna"], "ordered", hunt_groups.Timing()
        )
    with pytest.raises(InvalidInput, match="card number"):
        await hunt_groups.set_group(db, "+498912345670", ["Anna"], "ordered", hunt_groups.Timing())
    with pytest.raises(NotFound, match="no advisor"):
        await hunt_groups.set_group(db, ADVISOR_NUMBER, ["Zoe"], "ordered", hunt_groups.Timing())
    assert await hunt_groups.clear_group(db, ADVISOR_NUMBER) == ADVISOR_NUMBER
    with pytest.raises(NotFound, match="rings PJSIP/advisor1"):
        await hunt_groups.get_group(db, ADVISOR_NUMBER)


async def test_a_claim_whose_call_holds_nothing_is_given_back_after_the_grace(
    db: Database,
) -> None:
    """An engine died mid-call (or the end of its call never reached the database): the sweep
    frees the advisor once the call has had no open hold for 30 s; a live call keeps it."""
    [card] = await project_with_cards(db)
    for name in ("Anna", "Ben"):
        await advisors.add_advisor(db, "astro", name, f"PJSIP/{name.lower()}", secret=SECRET)
    await hunt_groups.set_group(
        db, ADVISOR_NUMBER, ["Anna", "Ben"], "ordered", hunt_groups.Timing()
    )
    now = utcnow()
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR_NUMBER, caller="+4930123456", call_id="live"
    )
    assert auth.hold_id is not None
    await advisor_claims.claim(db, "live", ADVISOR_NUMBER, frozenset(), now=now)
    await advisor_claims.claim(db, "dead", ADVISOR_NUMBER, frozenset(), now=now)
    later = now + timedelta(seconds=29)
    assert await advisor_claims.release_orphans(db, now=later) == []
    later = now + timedelta(seconds=30)
    assert await advisor_claims.release_orphans(db, now=later) == ["Ben"]
    states = [(a["name"], a["state"]) for a in await advisors.api_view(db, 1, later)]
    assert states == [("Anna", "ringing"), ("Ben", "available")]


async def test_a_number_removed_since_the_look_up_offers_nobody(db: Database) -> None:
    await project_with_cards(db)
    offer = await advisor_claims.claim(db, "c1", "+498912345699", frozenset())
    assert offer.candidates == ()


async def test_the_callers_extension_is_claimed_first_else_the_group(db: Database) -> None:
    await project_with_cards(db)
    for name, ext in (("Anna", "11"), ("Ben", "12")):
        await advisors.add_advisor(db, "astro", name, f"PJSIP/{name.lower()}", secret=SECRET,
                                   ext=ext)  # fmt: skip
    timing = hunt_groups.Timing(15, 60, 0, extensions=True)
    view = await hunt_groups.set_group(db, ADVISOR_NUMBER, ["Anna", "Ben"], "ordered", timing)
    assert view.timing.extensions
    chosen = await advisor_claims.claim(db, "c1", ADVISOR_NUMBER, frozenset(), extension="12")
    assert (names(chosen), chosen.extension_missed) == (["Ben"], False)
    busy = await advisor_claims.claim(db, "c2", ADVISOR_NUMBER, frozenset(), extension="12")
    assert (names(busy), busy.extension_missed) == (["Anna"], True)
    unknown = await advisor_claims.claim(db, "c3", ADVISOR_NUMBER, frozenset(), extension="99")
    assert (names(unknown), unknown.extension_missed) == ([], True)
