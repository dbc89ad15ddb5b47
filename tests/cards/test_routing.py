"""What the engine asks before a call: the number, the caller's card and the tariff to use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cards.db import Database
from cards.models import LinePrice
from cards.services import activation, projects, routing
from rating import CallerClass, Increments
from tests.cards.helpers import project_with_cards
from tests.conftest import SECRET

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


async def test_caller_class_picks_the_mobile_price(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=100_000)
    await projects.set_tariff(
        db,
        "astro",
        "standard",
        increments=Increments(60, 1),
        rates={"fixed": 19_900, "mobile": 29_900},
    )
    choice = await routing.choose_rating(db, ADVISOR, MOBILE, card.card_id)
    assert (choice.caller_class, choice.tariff.rate_for(choice.caller_class)) == (
        CallerClass.MOBILE,
        29_900,
    )
    assert choice.credit == 100_000
    foreign = await routing.choose_rating(db, ADVISOR, UK, card.card_id)
    assert foreign.tariff.rate_for(foreign.caller_class) == 19_900


async def test_first_caller_tariff_for_two_calls_then_standard(db: Database) -> None:
    [card] = await project_with_cards(db)
    await projects.set_tariff(
        db, "astro", "welcome", increments=Increments(1, 1), rates={"fixed": 1}
    )
    await projects.add_number(
        db,
        "astro",
        "+498912345672",
        "advisor",
        destination="PJSIP/a",
        tariff="standard",
        first_caller_tariff="welcome",
        first_caller_calls=2,
    )
    reasons = [
        (await routing.choose_rating(db, "+498912345672", FIXED, card.card_id, now=T0)).reason
        for _ in range(3)
    ]
    assert reasons == ["first_caller", "first_caller", "standard"]


async def test_first_caller_tariff_for_days(db: Database) -> None:
    [card] = await project_with_cards(db)
    await projects.set_tariff(
        db, "astro", "welcome", increments=Increments(1, 1), rates={"fixed": 1}
    )
    await projects.add_number(
        db,
        "astro",
        "+498912345672",
        "advisor",
        destination="PJSIP/a",
        tariff="standard",
        first_caller_tariff="welcome",
        first_caller_days=7,
    )
    first = await routing.choose_rating(db, "+498912345672", FIXED, card.card_id, now=T0)
    week = await routing.choose_rating(
        db, "+498912345672", FIXED, card.card_id, now=T0 + timedelta(days=6)
    )
    later = await routing.choose_rating(
        db, "+498912345672", FIXED, card.card_id, now=T0 + timedelta(days=8)
    )
    assert [first.reason, week.reason, later.reason] == ["first_caller", "first_caller", "standard"]


async def test_individual_line_price_wins(db: Database) -> None:
    [card] = await project_with_cards(db)
    special = await projects.set_tariff(
        db, "astro", "vip", increments=Increments(1, 1), rates={"fixed": 1}
    )
    async with db.transaction() as session:
        session.add(LinePrice(project_id=1, line=FIXED, tariff_id=special.id))
    choice = await routing.choose_rating(db, ADVISOR, FIXED, card.card_id)
    assert (choice.reason, choice.tariff_id) == ("individual", special.id)


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
