"""``cardadmin orders`` and ``order``: callers' online top-ups (issue 24): list and show them,
mark a bank transfer paid, void an order that was not paid."""

from __future__ import annotations

import click

from admin_cli.amounts import parse_amount
from admin_cli.errors import OperatorError
from admin_cli.output import Amount, actor_option, emit_record, emit_rows, json_option
from admin_cli.runner import run_with_db
from cards.db import Database
from cards.domain import OrderStatus
from cards.services import order_moves, orders, projects
from cards.services.orders import OrderPage, OrderView

COLUMNS = ["reference", "status", "amount", "card", "provider", "created", "note"]


def _row(view: OrderView) -> dict[str, object]:
    return {
        "reference": view.reference,
        "status": view.status.value,
        "amount": Amount(view.amount, "money"),
        "card": view.masked_serial,
        "provider": view.provider,
        "created": view.created_at.strftime("%Y-%m-%d %H:%M"),
        "note": view.note,
    }


def _record(view: OrderView) -> dict[str, object]:
    """Everything the order knows, amounts as ``Amount`` (JSON: integers, 1/10,000 EUR)."""
    record: dict[str, object] = dict(view.as_json())
    for key in ("amount", "credited", "taken_back", "receivable", "balance_after"):
        value = record[key]
        if isinstance(value, int):
            record[key] = Amount(value, "money")
    return record


@click.group("orders")
def orders_group() -> None:
    """Callers' online top-ups: list and show."""


@orders_group.command("list")
@click.option("--project", help="project name or id (default: every project)")
@click.option("--status", type=click.Choice([s.value for s in OrderStatus]), help="only these")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True,
              help="orders per page, newest first")  # fmt: skip
@click.option("--after", help="the cursor the page before printed, for the next page")
@json_option
def orders_list(
    project: str | None, status: str | None, limit: int, after: str | None, as_json: bool
) -> None:
    """Orders, newest first; a full page ends with the cursor of the next."""

    async def action(db: Database) -> OrderPage:
        project_id = (await projects.get_project(db, project)).id if project else None
        return await orders.list_orders(
            db, project_id=project_id, status=OrderStatus(status) if status else None,
            limit=limit, after=after,
        )  # fmt: skip

    page = run_with_db(action)
    if as_json:
        emit_record(
            {"items": [v.as_json() for v in page.items], "next_after": page.next_after},
            as_json=True,
        )
        return
    emit_rows([_row(v) for v in page.items], COLUMNS, as_json=False, title="orders")
    if page.next_after:
        click.echo(f"more: --after {page.next_after}")


@orders_group.command("show")
@click.argument("reference")
@json_option
def orders_show(reference: str, as_json: bool) -> None:
    """One order with its times, credit, and for a failed capture what was taken back and owed."""

    async def action(db: Database) -> OrderView | None:
        return await orders.order_view(db, reference)

    view = run_with_db(action)
    if view is None:
        raise OperatorError(f"no order {reference[:20]!r}")
    emit_record(_record(view), as_json=as_json, title=f"order {view.reference}")


@click.group("order")
def order_group() -> None:
    """Complete or call off one order (audited)."""


@order_group.command("paid")
@click.argument("reference")
@click.option(
    "--amount",
    "amount_text",
    required=True,
    help="what the bank statement shows, e.g. 25,00 (another amount credits nothing)",
)
@actor_option
@json_option
def order_paid(reference: str, amount_text: str, actor: str, as_json: bool) -> None:
    """A bank transfer for REFERENCE arrived: credit the card (once, however often it is run)."""
    amount = parse_amount(amount_text, "money")

    async def action(db: Database) -> OrderView:
        return await order_moves.mark_paid(db, reference, actor=actor, amount=amount)

    view = run_with_db(action)
    if view.status is not OrderStatus.CAPTURED:
        raise OperatorError(
            f"order {view.reference} is {view.status.value}: {view.note or 'nothing credited'}"
            " (send the transfer back)"
        )
    emit_record(_record(view), as_json=as_json, title=f"order {view.reference} paid")


@order_group.command("void")
@click.argument("reference")
@click.option("--reason", required=True, help="why, for the audit trail")
@actor_option
@json_option
def order_void(reference: str, reason: str, actor: str, as_json: bool) -> None:
    """Call off an order that was not credited (it can no longer be paid)."""

    async def action(db: Database) -> OrderView:
        return await order_moves.void(db, reference, why=reason, actor=actor, audit=True)

    view = run_with_db(action)
    emit_record(_record(view), as_json=as_json, title=f"order {view.reference} voided")
