"""The one small interface every payment provider has: a name, and what the caller's page does
next for a new order (show instructions, or send the browser elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cards.errors import CardsError
from cards.services.orders import OrderView


@dataclass(frozen=True)
class Instructions:
    """Shown on the page: pay ``amount`` to the account in ``lines`` naming ``reference``."""

    reference: str
    amount: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Redirect:
    url: str


NextStep = Instructions | Redirect


class ProviderUnavailable(CardsError):
    """The provider did not answer as documented: the order is voided, nothing moved."""

    code = "provider_unavailable"


class Provider(Protocol):
    @property
    def name(self) -> str: ...

    async def begin(self, order: OrderView) -> NextStep: ...
