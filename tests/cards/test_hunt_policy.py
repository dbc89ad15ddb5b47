"""The hunting policy's properties (issue 23): an advisor is offered at most once per hunt and
never when not free; a hunt offers every free advisor before it gives up; round-robin is fair
over 1,000 calls; each strategy picks whom ``app_queue`` would pick."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from cards.hunt import Member, Strategy, next_offer

MEMBERS = st.lists(
    st.builds(
        Member,
        advisor_id=st.integers(1, 10_000),
        free=st.booleans(),
        idle_since_ms=st.integers(0, 10**9),
        calls_taken=st.integers(0, 50),
    ),
    max_size=12,
    unique_by=lambda m: m.advisor_id,
)
STRATEGIES = st.sampled_from(list(Strategy))


def hunt(strategy: Strategy, members: list[Member], last: int | None) -> list[tuple[int, ...]]:
    """Every offer of one hunt in which nobody answers."""
    tried: set[int] = set()
    offers = []
    while offer := next_offer(strategy, members, frozenset(tried), last):
        offers.append(offer)
        tried.update(offer)
        last = offer[-1]
        assert len(offers) <= len(members)
    return offers


@given(STRATEGIES, MEMBERS, st.none() | st.integers(1, 10_000))
def test_a_hunt_offers_each_free_advisor_once_and_never_a_busy_one(
    strategy: Strategy, members: list[Member], last: int | None
) -> None:
    offered = [a for offer in hunt(strategy, members, last) for a in offer]
    assert len(offered) == len(set(offered))
    assert sorted(offered) == sorted(m.advisor_id for m in members if m.free)
    if strategy is not Strategy.RING_ALL:
        assert all(len(offer) == 1 for offer in hunt(strategy, members, last))


@given(STRATEGIES, MEMBERS, st.frozensets(st.integers(1, 10_000)))
def test_an_offer_is_free_untried_and_a_member(
    strategy: Strategy, members: list[Member], tried: frozenset[int]
) -> None:
    free = {m.advisor_id for m in members if m.free} - tried
    offer = next_offer(strategy, members, tried)
    assert set(offer) <= free
    assert bool(offer) == bool(free)


@given(st.integers(1, 9), st.lists(st.integers(0, 8), max_size=30))
def test_round_robin_is_fair_over_1000_calls(size: int, busy_calls: list[int]) -> None:
    """Everybody free: offers over 1,000 calls differ by at most one per advisor. When the next
    in turn is busy it is skipped for the one after it, and its turn is not lost for good."""
    members = [Member(i, True) for i in range(1, size + 1)]
    counts: Counter[int] = Counter()
    last = None
    for _ in range(1000):
        [chosen] = next_offer(Strategy.ROUND_ROBIN, members, frozenset(), last)
        counts[chosen] += 1
        last = chosen
    assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == size
    for busy in busy_calls:
        turn = 0 if last is None else last % size  # the index of the one after ``last``
        busy_id = busy % size + 1
        offered = [Member(m.advisor_id, m.advisor_id != busy_id) for m in members]
        chosen_offer = next_offer(Strategy.ROUND_ROBIN, offered, frozenset(), last)
        if size == 1:
            assert chosen_offer == ()
            continue
        [chosen] = chosen_offer
        expected = members[turn].advisor_id
        if expected == busy_id:
            expected = members[(turn + 1) % size].advisor_id
        assert chosen == expected
        last = chosen


def test_each_strategy_picks_as_app_queue_does() -> None:
    members = [
        Member(1, False, idle_since_ms=0, calls_taken=0),
        Member(2, True, idle_since_ms=500, calls_taken=7),
        Member(3, True, idle_since_ms=100, calls_taken=3),
        Member(4, True, idle_since_ms=100, calls_taken=3),
    ]
    assert next_offer(Strategy.ORDERED, members) == (2,)
    assert next_offer(Strategy.ROUND_ROBIN, members, last_offered=2) == (3,)
    assert next_offer(Strategy.ROUND_ROBIN, members, last_offered=4) == (2,)
    assert next_offer(Strategy.ROUND_ROBIN, members, last_offered=99) == (2,)
    assert next_offer(Strategy.LONGEST_IDLE, members) == (3,)
    assert next_offer(Strategy.FEWEST_CALLS, members) == (3,)
    assert next_offer(Strategy.RING_ALL, members) == (2, 3, 4)
    assert next_offer(Strategy.RING_ALL, members, frozenset({3})) == (2, 4)
    assert next_offer(Strategy.ORDERED, members, frozenset({2, 3, 4})) == ()
