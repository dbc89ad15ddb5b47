"""What the engine asks before a call: the number, the caller's card and the tariff to use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from cards.db import Database
from cards.models import FirstCaller, LinePrice
from cards.services import activation, calls, projects, routing
from rating import Increments
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards
from tests.support.settlements import talked

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FIXED, MOBILE, UK = "+4930123456", "+4915112345678", "+442079460018"
ADVISOR = "+498912345671"
FREEPHONE = "+498001234567"


async def test_route_finds_the_bound_card_and_the_default_advisor(db: Database) -> None:
    [card] = await project_with_cards(db)
    await activation.activate(db, "astro", FIXED, card.pin, secret=SECRET, now=T0)
    found = await routing.route(db, "089 12345671", FIXED)
    assert found.number is not None
    assert (found.number.role, found.card_id, found.default_advisor) == (
        "advisor",
        card.card_id,
        None,  # only a card number offers the default advisor (press 1)
    )
    via_card = await routing.route(db, "+498912345670", FIXED)
    assert via_card.number is not None
    assert (via_card.number.role, via_card.card_id, via_card.default_advisor) == (
        "card",
        card.card_id,
        ADVISOR,
    )
    assert (await routing.route(db, "+498912345699", FIXED)).number is None
    assert (await routing.route(db, "not a number", FIXED)).number is None


async def test_0800_refuses_mobile_and_foreign_by_default(db: Database) -> None:
    await project_with_cards(db)
    await projects.add_number(
        db, "astro", FREEPHONE, "advisor", destination="PJSIP/a", tariff="standard"
    )
    assert (await routing.route(db, FREEPHONE, FIXED)).accepts_caller
    assert not (await routing.route(db, FREEPHONE, MOBILE)).accepts_caller
    assert not (await routing.route(db, FREEPHONE, UK)).accepts_caller
    assert (await routing.route(db, ADVISOR, MOBILE)).accepts_caller


async def call_once(
    db: Database, dialed: str, caller: str, card_id: int, now: datetime, talk_s: int = 10
) -> calls.Authorization:
    """Authorize and bill one call of ``talk_s`` seconds, as the engine does."""
    auth = await calls.authorize(
        db, card_id=card_id, dialed=dialed, caller=caller, call_id=f"c{now}{talk_s}", now=now
    )
    await calls.settle(
        db,
        talked(
            f"c{now}{talk_s}",
            auth.hold_id,
            talk_s,
            card_id=card_id,
            caller=caller,
            dialed=dialed,
            start=now,
        ),
    )
    return auth


ONE_ONE = Increments(1, 1)


async def first_caller_number(
    db: Database, increments: Increments = ONE_ONE, **limits: int
) -> None:
    """+498912345672: the standard tariff, and the "welcome" tariff for callers still new."""
    await projects.set_tariff(db, "astro", "welcome", increments=increments, rates={"fixed": 1})
    await projects.add_number(
        db,
        "astro",
        "+498912345672",
        "advisor",
        destination="PJSIP/a",
        tariff="standard",
        first_caller_tariff="welcome",
        **limits,
    )


async def test_caller_class_picks_the_mobile_price(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=100_000)
    await projects.set_tariff(
        db,
        "astro",
        "standard",
        increments=Increments(60, 1),
        rates={"fixed": 19_900, "mobile": 29_900},
    )
    mobile = await call_once(db, ADVISOR, MOBILE, card.card_id, T0, talk_s=0)
    assert mobile.price_per_minute == 29_900
    # 10.00 EUR at 2.99 EUR a minute in 60/1: 3 minutes 20 s (the cost of 200 s is 9.9667 EUR)
    assert mobile.affordable_s == 200
    foreign = await call_once(db, ADVISOR, UK, card.card_id, T0, talk_s=1)
    assert foreign.price_per_minute == 19_900


async def test_first_caller_tariff_for_two_calls_then_standard(db: Database) -> None:
    [card] = await project_with_cards(db)
    await first_caller_number(db, first_caller_calls=2)
    reasons = [
        (await call_once(db, "+498912345672", FIXED, card.card_id, T0, talk_s=n)).tariff_reason
        for n in range(1, 4)
    ]
    assert reasons == ["first_caller", "first_caller", "standard"]


async def test_first_caller_tariff_for_days(db: Database) -> None:
    [card] = await project_with_cards(db)
    await first_caller_number(db, first_caller_days=7)
    reasons = [
        (
            await call_once(db, "+498912345672", FIXED, card.card_id, T0 + timedelta(days=d))
        ).tariff_reason
        for d in (0, 6, 8)
    ]
    assert reasons == ["first_caller", "first_caller", "standard"]


async def test_a_call_refused_for_no_credit_is_not_put_on_the_first_caller_list(
    db: Database,
) -> None:
    [card] = await project_with_cards(db, value=600)
    # The first-caller tariff bills a first block of 15 minutes: the 10-minute card cannot pay it.
    await first_caller_number(db, Increments(900, 1), first_caller_calls=1)
    refused = await calls.authorize(
        db, card_id=card.card_id, dialed="+498912345672", caller=FIXED, call_id="x", now=T0
    )
    assert (refused.hold_id, refused.refusal) == (None, "no_credit")
    async with db.read() as session:
        assert (await session.scalars(select(FirstCaller))).all() == []


async def test_individual_line_price_wins(db: Database) -> None:
    [card] = await project_with_cards(db)
    special = await projects.set_tariff(
        db, "astro", "vip", increments=Increments(1, 1), rates={"fixed": 1}
    )
    async with db.transaction() as session:
        session.add(LinePrice(project_id=1, line=FIXED, tariff_id=special.id))
    choice = await call_once(db, ADVISOR, FIXED, card.card_id, T0)
    assert (choice.tariff_reason, choice.tariff_id) == ("individual", special.id)


async def test_card_seconds_for_minute_and_money_cards(db: Database) -> None:
    [card] = await project_with_cards(db, value=750)
    assert await routing.card_seconds(db, card.card_id, FIXED) == 750


def test_anonymous_and_odd_caller_ids_are_no_number() -> None:
    for raw in (None, "", "anonymous", "Restricted", "abc", "12"):
        assert routing.normalise_caller(raw) is None
    assert routing.normalise_caller("030 123456") == FIXED


def test_trunk_format_is_configured_never_guessed() -> None:
    assert routing.normalise_caller("4915112345678", "international") == "+4915112345678"
    assert routing.normalise_caller("4915112345678", "national") != "+4915112345678"
    assert routing.normalise_caller("+4930123456", "international") == FIXED
