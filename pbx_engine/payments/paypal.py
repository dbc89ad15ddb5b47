"""``paypal``: reserve, credit, then capture (seed 000). The payer approves the PayPal order; on
return the engine authorizes it, credits the card, and only then captures. A declined
authorization fails the order; a capture PayPal refuses takes the unused credit back; a card
that can no longer take money gets its authorization voided at PayPal."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cards.db import Database
from cards.domain import OrderStatus
from cards.errors import Conflict, InvalidInput, NotFound
from cards.services import order_moves
from cards.services.orders import OrderView, order_view
from pbx_engine.payments.paypal_api import PaypalApi, PaypalRefused, eur_value
from pbx_engine.payments.provider import NextStep, ProviderUnavailable, Redirect

log = logging.getLogger(__name__)
S = OrderStatus
ACTOR = "paypal"
RETURN_PATH = "/pay/paypal/return/{reference}"
CANCEL_PATH = "/pay/paypal/cancel/{reference}"


@dataclass
class PaypalProvider:
    db: Database
    api: PaypalApi
    public_url: str
    name: str = "paypal"

    async def begin(self, order: OrderView) -> NextStep:
        """Create the PayPal order and send the payer to approve it."""
        try:
            eur_value(order.amount)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        ref = order.reference
        order_id, approve = await self.api.create_order(
            ref, order.amount,
            self.public_url + RETURN_PATH.format(reference=ref),
            self.public_url + CANCEL_PATH.format(reference=ref),
        )  # fmt: skip
        await order_moves.attach(self.db, ref, provider_order_id=order_id)
        return Redirect(approve)

    async def _order(self, reference: str, token: str) -> OrderView:
        """The PayPal order the browser came back for; its ``token`` must be PayPal's id."""
        view = await order_view(self.db, reference)
        if view is None or view.provider != "paypal" or view.provider_order_id != token:
            raise NotFound(f"no PayPal order {reference[:20]!r} with that token")
        return view

    async def complete(self, reference: str, token: str) -> OrderView:
        """The payer approved: authorize, credit, capture, each step once however often the
        browser comes back. PayPal not answering leaves the order where it is (the page shows
        it; the operator sees it in ``cardadmin orders list``; the sweep tries again)."""
        view = await self._order(reference, token)
        return await self._advance(view, token)

    async def resume(self, reference: str) -> OrderView | None:
        """The sweep finishes an order the payer's return left half done (the engine stopped,
        PayPal did not answer): an authorized one is credited, a credited one captured."""
        view = await order_view(self.db, reference)
        return None if view is None else await self._advance(view, None)

    async def _advance(self, view: OrderView, token: str | None) -> OrderView:
        """Every step the order still lacks (authorizing needs the payer's ``token``)."""
        try:
            if view.status is S.CREATED and token is not None:
                view = await self._authorize(view, token)
            if view.status is S.AUTHORIZED:
                view = await order_moves.credit(self.db, view.reference, actor=ACTOR)
                if view.status is S.VOIDED:
                    await self._release(view)
            if view.status is S.CREDITED:
                view = await self._capture(view)
        except ProviderUnavailable as exc:
            log.warning("order %s: %s; it stays %s", view.reference, exc, view.status.value)
        return view

    async def _authorize(self, view: OrderView, token: str) -> OrderView:
        ref = view.reference
        try:
            auth = await self.api.authorize(token, ref)
        except PaypalRefused as exc:
            log.warning("order %s: PayPal declined the authorization: %s", ref, exc.issue)
            return await order_moves.decline(self.db, ref, why=exc.issue, actor=ACTOR)
        if auth.status != "CREATED" or auth.amount != view.amount:
            log.warning("order %s: authorization %s %s for %s", ref, auth.id, auth.status,
                        auth.amount)  # fmt: skip
            return await order_moves.decline(
                self.db, ref, why=f"authorization {auth.status} of {auth.amount}", actor=ACTOR
            )
        try:
            view = await order_moves.authorize(
                self.db, ref, provider="paypal", authorization_id=auth.id, actor=ACTOR
            )
        except Conflict:
            # The order closed (swept, voided) while PayPal reserved: release the payer's money
            # and show the order as it is.
            log.warning("order %s closed while PayPal authorized %s: voided there", ref, auth.id)
            await self.api.void(auth.id, ref)
            return await self._order(ref, token)
        if view.status is S.VOIDED:
            await self._release(view)
        return view

    async def _release(self, view: OrderView) -> None:
        """The card cannot take the money: the payer's reservation is voided at PayPal."""
        if view.authorization_id is not None:
            await self.api.void(view.authorization_id, view.reference)

    async def _capture(self, view: OrderView) -> OrderView:
        ref, auth = view.reference, str(view.authorization_id)
        try:
            captured = await self.api.capture(auth, ref)
        except PaypalRefused as exc:
            log.warning("order %s: PayPal refused the capture: %s", ref, exc.issue)
            return await order_moves.capture_failed(self.db, ref, why=exc.issue, actor=ACTOR)
        if captured.status in ("DECLINED", "FAILED"):
            log.warning("order %s: capture %s is %s", ref, captured.id, captured.status)
            return await order_moves.capture_failed(
                self.db, ref, why=f"capture {captured.status}", actor=ACTOR
            )
        if captured.status != "COMPLETED":  # PENDING: PayPal decides later; the order waits
            log.warning("order %s: capture %s is %s", ref, captured.id, captured.status)
            return view
        return await order_moves.capture(self.db, ref, capture_id=captured.id, actor=ACTOR)

    async def cancel(self, reference: str, token: str) -> OrderView:
        """The payer turned back at PayPal: an order not yet authorized is voided."""
        view = await self._order(reference, token)
        if view.status is not S.CREATED:
            return view
        return await order_moves.void(
            self.db, reference, why="cancelled by the payer at PayPal", actor=ACTOR
        )
