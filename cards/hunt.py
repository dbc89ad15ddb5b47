"""Who is offered a call next (issue 23): the hunting policy as a pure function, no I/O.

The strategies are ``app_queue``'s (and Wazo's): ``ordered`` (linear: the first free advisor in
list order), ``round-robin`` (rrmemory: the first free one after the advisor offered last),
``longest-idle`` (leastrecent), ``fewest-calls`` (fewestcalls) and ``ring-all`` (every free
advisor at once, the first to answer takes the call). The caller of ``next_offer`` — the claim
in ``cards.services.advisor_claims`` — says which members are free now and which were already
tried in this hunt; an advisor is offered at most once per hunt and never when not free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Strategy(StrEnum):
    ORDERED = "ordered"
    ROUND_ROBIN = "round-robin"
    LONGEST_IDLE = "longest-idle"
    FEWEST_CALLS = "fewest-calls"
    RING_ALL = "ring-all"


@dataclass(frozen=True)
class Member:
    """One advisor of a group as the policy sees it, in the group's list order."""

    advisor_id: int
    free: bool
    """Logged in, in no call (not ringing, not talking) and past its wrap-up."""
    idle_since_ms: int = 0
    """When its last call ended (or it was added): longest-idle offers the smallest first."""
    calls_taken: int = 0


def next_offer(
    strategy: Strategy,
    members: Sequence[Member],
    tried: frozenset[int] = frozenset(),
    last_offered: int | None = None,
) -> tuple[int, ...]:
    """The advisor ids to ring now: one, every free one (``ring-all``), or none (nobody left)."""
    candidates = [
        (position, m) for position, m in enumerate(members) if m.free and m.advisor_id not in tried
    ]
    if not candidates:
        return ()
    if strategy is Strategy.RING_ALL:
        return tuple(m.advisor_id for _, m in candidates)
    if strategy is Strategy.ROUND_ROBIN:
        start = _after(members, last_offered)
        size = len(members)
        _, chosen = min(candidates, key=lambda pm: (pm[0] - start) % size)
    elif strategy is Strategy.LONGEST_IDLE:
        _, chosen = min(candidates, key=lambda pm: (pm[1].idle_since_ms, pm[0]))
    elif strategy is Strategy.FEWEST_CALLS:
        _, chosen = min(candidates, key=lambda pm: (pm[1].calls_taken, pm[0]))
    else:
        _, chosen = candidates[0]
    return (chosen.advisor_id,)


def _after(members: Sequence[Member], advisor_id: int | None) -> int:
    """The list position after ``advisor_id`` (0 when it is not in the list)."""
    for position, member in enumerate(members):
        if member.advisor_id == advisor_id:
            return position + 1
    return 0
