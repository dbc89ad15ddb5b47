"""``transfer``: the caller pays by bank transfer naming the order's reference; the operator
completes the order with ``cardadmin order paid REF`` when the money is in."""

from __future__ import annotations

from dataclasses import dataclass

from cards.services.orders import OrderView
from pbx_engine.payments.provider import Instructions, NextStep


@dataclass(frozen=True)
class Transfer:
    bank_lines: tuple[str, ...]
    name: str = "transfer"

    async def begin(self, order: OrderView) -> NextStep:
        return Instructions(order.reference, order.amount, self.bank_lines)
