"""The one rule of what money may move on a card in each state; the CLI, the API, AGI and the
engine all ask it. (Calls ask ``usable``: a blocked or expired card starts no call.)

| card is | top-up, API credit | API debit | operator's refund, adjust ± | expiry sweep |
|---|---|---|---|---|
| new, active | yes | yes | yes | yes |
| blocked | no (``card_blocked``) | no (``card_blocked``) | yes | yes |
| expired, or past its date | no (``card_expired``) | no | no | yes (once) |

Why: a blocked card is frozen for its holder and every shop (lost, disputed), but the operator
must still be able to pay its balance back or correct it; an expired card's rest belongs to the
operator by the sweep, so nothing may be loaded onto it that the sweep would then take.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from cards.clock import aware
from cards.domain import CardStatus
from cards.errors import CardBlocked, CardExpired
from cards.models import Card


class CardState(StrEnum):
    USABLE = "usable"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class Move(StrEnum):
    TOPUP = "topup"
    CREDIT = "credit"
    DEBIT = "debit"
    ADJUST_IN = "adjust_in"
    ADJUST_OUT = "adjust_out"
    REFUND = "refund"
    EXPIRY = "expiry"


_BLOCKED_ALLOWS = frozenset({Move.REFUND, Move.ADJUST_OUT, Move.ADJUST_IN, Move.EXPIRY})
"""The operator's own corrections stay possible on a blocked card; the holder's and shops' not."""
_EXPIRED_ALLOWS = frozenset({Move.EXPIRY})


def state_of(card: Card, now: datetime) -> CardState:
    """Expired by hand or by date (a card past its date is expired before the sweep runs)."""
    if card.status == CardStatus.EXPIRED or (card.expires_at and aware(card.expires_at) <= now):
        return CardState.EXPIRED
    if card.status == CardStatus.BLOCKED:
        return CardState.BLOCKED
    return CardState.USABLE


def check_move(card: Card, move: Move, now: datetime) -> None:
    """Refuse ``move`` on ``card`` now, with ``card_expired`` or ``card_blocked``."""
    state = state_of(card, now)
    if state is CardState.EXPIRED and move not in _EXPIRED_ALLOWS:
        raise CardExpired(f"card {card.serial} has expired: no money moves on it")
    if state is CardState.BLOCKED and move not in _BLOCKED_ALLOWS:
        raise CardBlocked(f"card {card.serial} is blocked: {move.value} refused")
