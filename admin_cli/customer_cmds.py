"""``cardadmin customer`` and ``statement``: customer accounts (prepaid or postpaid), their
cards, month-end billing, and the monthly statement as a table, CSV or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from admin_cli.amounts import parse_amount
from admin_cli.errors import OperatorError
from admin_cli.output import (
    Amount,
    actor_option,
    emit_record,
    emit_rows,
    json_option,
    reason_option,
    write_csv,
)
from admin_cli.runner import run_with_db
from cards import statement_pdf
from cards.clock import aware
from cards.db import Database
from cards.domain import CustomerKind
from cards.errors import CardsError
from cards.models import AccountSettlement, Customer
from cards.services import call_records, customers, projects, statements

KINDS = click.Choice([k.value for k in CustomerKind])


@click.group("customer")
def customer_group() -> None:
    """Customer accounts: prepaid, or postpaid with a credit limit (seed 002)."""


@customer_group.command("create")
@click.argument("name")
@click.option("--project", required=True, help="project name or id")
@click.option("--kind", type=KINDS, required=True, help="prepaid or postpaid")
@click.option("--credit-limit", help="postpaid: how far below zero its cards may go")
@click.option("--threshold", help="postpaid: open charges that bill early (default 20 EUR)")
@actor_option
@json_option
def customer_create(
    name: str,
    project: str,
    kind: str,
    credit_limit: str | None,
    threshold: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Create a customer account."""

    async def action(db: Database) -> tuple[Customer, str]:
        unit = (await projects.get_project(db, project)).unit
        limit = parse_amount(credit_limit, unit) if credit_limit else 0
        early = parse_amount(threshold, unit) if threshold else None
        made = await customers.create(
            db, project, name, CustomerKind(kind), credit_limit=limit, threshold=early, actor=actor
        )
        return made, unit

    made, unit = run_with_db(action)
    emit_record(_customer_dict(made, unit, 0), as_json=as_json, title="customer created")


def _customer_dict(c: Customer, unit: str, owed: int) -> dict[str, object]:
    return {
        "name": c.name,
        "kind": c.kind,
        "credit_limit": Amount(c.credit_limit, unit),
        "threshold": Amount(c.threshold, unit),
        "receivable": Amount(owed, unit),
        "unit": unit,
    }


@customer_group.command("list")
@click.option("--project", required=True, help="project name or id")
@json_option
def customer_list(project: str, as_json: bool) -> None:
    """The customers of a project with their terms and what each owes (billed, not paid)."""

    async def action(db: Database) -> tuple[list[Customer], str, dict[int, int]]:
        found, unit = await customers.list_customers(db, project)
        return found, unit, await customers.owed(db, found)

    found, unit, owed = run_with_db(action)
    rows = [_customer_dict(c, unit, owed[c.id]) for c in found]
    emit_rows(rows, ["name", "kind", "credit_limit", "threshold", "receivable"],
              as_json=as_json, title="customers")  # fmt: skip


@customer_group.command("pay")
@click.argument("name")
@click.argument("amount")
@click.option("--project", required=True, help="project name or id")
@click.option("--reference", required=True, help="the payment's reference, e.g. the bank's")
@actor_option
@json_option
def customer_pay(
    name: str, amount: str, project: str, reference: str, actor: str, as_json: bool
) -> None:
    """Record a postpaid customer's payment of AMOUNT: its credit line is free again by it."""

    async def action(db: Database) -> tuple[dict[str, object], str]:
        unit = (await projects.get_project(db, project)).unit
        paid = await customers.pay(
            db, project, name, parse_amount(amount, unit), reference=reference, actor=actor
        )
        return {"customer": name, "paid": Amount(paid.amount, unit), "reference": reference,
                "unit": unit}, unit  # fmt: skip

    record, _ = run_with_db(action)
    emit_record(record, as_json=as_json, title="payment")


@customer_group.command("attach")
@click.argument("card")
@click.option("--customer", required=True, help="the customer's name")
@actor_option
@json_option
def customer_attach(card: str, customer: str, actor: str, as_json: bool) -> None:
    """CARD belongs to the customer from now on (and shares the customer's credit line)."""
    done = run_with_db(lambda db: customers.attach(db, card, customer, actor=actor))
    emit_record({"serial": done.serial, "customer": customer}, as_json=as_json, title="card")


@customer_group.command("switch")
@click.argument("name")
@click.option("--project", required=True, help="project name or id")
@click.option("--to", "kind", type=KINDS, required=True, help="the new payment method")
@click.option("--credit-limit", help="to postpaid: the credit limit")
@actor_option
@reason_option
@json_option
def customer_switch(
    name: str,
    project: str,
    kind: str,
    credit_limit: str | None,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Change the payment method; postpaid → prepaid bills what is open first."""

    async def action(db: Database) -> tuple[list[AccountSettlement], str]:
        unit = (await projects.get_project(db, project)).unit
        limit = parse_amount(credit_limit, unit) if credit_limit else 0
        bills = await customers.switch(
            db, project, name, CustomerKind(kind), credit_limit=limit, actor=actor, reason=reason
        )
        return bills, unit

    bills, unit = run_with_db(action)
    billed = Amount(sum(b.amount for b in bills), unit)
    emit_record({"customer": name, "kind": kind, "billed": billed, "unit": unit},
                as_json=as_json, title="customer switched")  # fmt: skip


@customer_group.command("bill-month")
@json_option
def customer_bill_month(as_json: bool) -> None:
    """Bill every postpaid card's open charges (run on the 1st, e.g. from cron)."""
    bills = run_with_db(customers.month_end)
    rows = [{"card_id": b.card_id, "amount": b.amount, "cause": b.cause} for b in bills]
    if as_json:
        emit_rows(rows, [], as_json=True, title="")
        return
    click.echo(f"{len(bills)} postpaid cards billed")


COLUMNS = ("at", "card", "kind", "amount", "balance_after", "detail")


@click.command("statement")
@click.option("--customer", required=True, help="the customer's name")
@click.option("--project", required=True, help="project name or id")
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
    help="write the statement as CSV to this file ('-': standard output)",
)  # fmt: skip
@click.option(
    "--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
    help="write the statement as a PDF to this file",
)  # fmt: skip
@json_option
def statement_cmd(
    customer: str,
    project: str,
    month: str,
    csv_path: Path | None,
    pdf_path: Path | None,
    as_json: bool,
) -> None:
    """A customer's month: opening balance, top-ups, each call, adjustments, settlements,
    closing balance, and totals."""
    try:
        start, end = call_records.month_bounds(month)
    except CardsError as exc:
        raise OperatorError(f"--{exc}") from exc
    found = run_with_db(lambda db: statements.statement(db, project, customer, start, end))
    unit = found.unit
    rows = [
        {
            "at": aware(line.at).isoformat(timespec="seconds"),
            "card": line.card,
            "kind": line.kind,
            "amount": Amount(line.amount, unit),
            "balance_after": Amount(line.balance_after, unit),
            "detail": line.detail,
        }
        for line in found.lines
    ]
    summary = {
        "customer": found.customer,
        "kind": found.kind,
        "month": month,
        "opening": Amount(found.opening, unit),
        **{name: Amount(total, unit) for name, total in found.totals().items()},
        "closing": Amount(found.closing, unit),
        "unit": unit,
    }
    if csv_path is not None:
        _write_csv(rows, summary, csv_path)
    elif pdf_path is not None:
        _write_pdf(rows, summary, pdf_path)
    elif as_json:
        emit_record({**summary, "lines": rows}, as_json=True)
    else:
        emit_rows(rows, list(COLUMNS), as_json=False, title=f"statement {month}: {customer}")
        emit_record(summary, as_json=False, title="totals")


def _write_csv(rows: list[dict[str, object]], summary: dict[str, object], path: Path) -> None:
    lines = [
        ["", "", "opening", summary["opening"], "", ""],
        *[[row[c] for c in COLUMNS] for row in rows],
        ["", "", "closing", "", summary["closing"], ""],
    ]
    write_csv(path, COLUMNS, lines, "statement written to")


def _write_pdf(rows: list[dict[str, object]], summary: dict[str, object], path: Path) -> None:
    lines = [[str(row[c]) if row[c] is not None else "" for c in COLUMNS] for row in rows]
    for line in lines:
        line[0] = line[0][:10]  # the day is enough on paper
    names = ("opening", "top-ups", "calls", "adjustments", "settlements", "closing")
    title = f"Statement {summary['month']}: {summary['customer']} ({summary['kind']})"
    data = statement_pdf.render(title, lines, {n: str(summary[n]) for n in names})
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OperatorError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
    click.echo(f"statement written to {path}")
