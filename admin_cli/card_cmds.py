"""``cardadmin cards|card|topup|adjust|line|transactions|audit``: cards and their money."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from admin_cli import card_sheet
from admin_cli.amounts import parse_amount
from admin_cli.errors import OperatorError, parse_count, parse_or_fail
from admin_cli.line_price_cmds import price_group
from admin_cli.output import (
    Amount,
    actor_option,
    emit_record,
    emit_rows,
    json_option,
    reason_option,
)
from admin_cli.pin_output import PinFile, PinsNotDelivered, write_stdout, write_stdout_json
from admin_cli.runner import run_with_db, secret
from cards.amounts import show_amount
from cards.clock import aware
from cards.db import Database
from cards.domain import CardStatus, NumberRole
from cards.errors import CardsError
from cards.journal import Journal, default_path
from cards.models import Card, LedgerEntry, OperatorAction, Project
from cards.phone import national
from cards.services import (
    activation,
    adjustments,
    card_life,
    cardbatch,
    ledger,
    line_prices,
    projects,
    reports,
    reservations,
    strict_audit,
)
from rating import Unit


def _date(text: str, what: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise OperatorError(f"{what}: write a date as YYYY-MM-DD, got {text!r}") from exc


@click.group("cards")
def cards_group() -> None:
    """Batches of cards."""


@cards_group.command("create")
@click.option("--project", required=True, help="project name or id")
@click.option("--count", required=True, help="how many cards (1–10,000)")
@click.option("--minutes", help="value of each card (minute projects)")
@click.option("--amount", help="value of each card in EUR (money projects)")
@click.option("--price", help="sold price per card in EUR, for the books")
@click.option("--label", help="a note on the batch, e.g. the shop it goes to")
@click.option("--expires", help="YYYY-MM-DD")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write serial;pin;value to this new file, mode 0600 (else to stdout)",
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also a printable sheet to this new file: 10 cards per A4 page, mode 0600",
)
@click.option("--force", is_flag=True, help="replace an existing --csv or --pdf file")
@json_option
def cards_create(
    project: str,
    count: str,
    minutes: str | None,
    amount: str | None,
    price: str | None,
    label: str | None,
    expires: str | None,
    csv_path: Path | None,
    pdf_path: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Create cards with random PINs; the PINs are shown once, here, before anything is saved."""
    n = parse_or_fail(parse_count, count, "--count")
    if (minutes is None) == (amount is None):
        raise OperatorError("give exactly one of --minutes and --amount")
    sold = parse_amount(price, "money") if price else 0
    expires_at = _date(expires, "--expires") if expires else None
    pin_key = secret()
    pin_file = PinFile(csv_path, force=force) if csv_path is not None else None
    pdf_file = PinFile(pdf_path, force=force) if pdf_path is not None else None

    async def action(db: Database) -> tuple[Project, list[cardbatch.NewCard]]:
        found = await projects.get_project(db, project)
        if (found.unit == Unit.MINUTES) != (minutes is not None):
            raise OperatorError(
                f"project {found.name} counts {found.unit}: use "
                f"{'--minutes' if found.unit == 'minutes' else '--amount'}"
            )
        value = parse_amount(minutes or amount or "", found.unit)
        card_numbers = [
            n.e164 for n in await projects.list_numbers(db, found.id) if n.role == NumberRole.CARD
        ]
        if pdf_file is not None and not card_numbers:
            raise OperatorError(f"project {found.name} has no card number to print on the sheet")

        def deliver(cards: list[cardbatch.NewCard]) -> None:
            rows = [(c.serial, c.pin, show_amount(c.balance, found.unit)) for c in cards]
            if pdf_file is not None:
                printed = [card_sheet.PrintedCard(*row) for row in rows]
                pdf_file.place(card_sheet.render(found.name, national(card_numbers[0]), printed))
            if pin_file is not None:
                pin_file.write(rows)
            elif pdf_file is not None:
                return  # the sheet has the PINs: none on the terminal
            elif as_json:
                write_stdout_json(
                    [{"serial": c.serial, "pin": c.pin, "value": c.balance} for c in cards],
                    found.unit,
                    cards[0].batch,
                )
            else:
                write_stdout(rows)

        created = await cardbatch.create_cards(
            db,
            found.id,
            n,
            value,
            secret=pin_key,
            sold_price=sold,
            label=label,
            expires_at=expires_at,
            deliver=deliver,
        )
        return found, created

    try:
        _, created = run_with_db(action)
    except (OperatorError, PinsNotDelivered) as exc:
        for made in (pin_file, pdf_file):
            if made is not None:
                made.discard()
        if isinstance(exc, PinsNotDelivered):
            raise OperatorError(f"no card created: the PINs could not be written ({exc})") from exc
        raise
    files = [str(f.path) for f in (pin_file, pdf_file) if f is not None]
    batch = created[0].batch
    if files and as_json:
        emit_record({"cards": len(created), "batch": batch, "files": files}, as_json=True)
    elif files:
        click.echo(f"{len(created)} cards (batch {batch}) written to {' and '.join(files)}")


async def _card_view(db: Database, ref: str) -> dict[str, object]:
    card = await cardbatch.get_card(db, ref)
    project = await projects.get_project(db, card.project_id)
    free = await reservations.available(db, card.id)
    return {
        "serial": card.serial,
        "project": project.name,
        "status": card.status,
        "balance": Amount(card.balance, project.unit),
        "available": Amount(free, project.unit),
        "line": await activation.line_of(db, card.serial),
        "unit": project.unit,
        "sold_price": Amount(card.sold_price, "money"),
        "label": card.label,
        "expires_at": card.expires_at.date().isoformat() if card.expires_at else None,
    }


@cards_group.command("list")
@click.option("--project", required=True, help="project name or id")
@click.option("--status", type=click.Choice([s.value for s in CardStatus]), help="only these")
@click.option("--label", help="only cards of batches with this label")
@click.option("--batch", help="only cards of this batch (its number)")
@click.option("--unused", is_flag=True, help="only cards no call has been billed to")
@json_option
def cards_list(
    project: str,
    status: str | None,
    label: str | None,
    batch: str | None,
    unused: bool,
    as_json: bool,
) -> None:
    """The cards of a project: serial, batch, status, balance, line, label, expiry, created."""
    number = parse_or_fail(parse_count, batch, "--batch") if batch is not None else None
    rows, unit = run_with_db(
        lambda db: reports.cards_of(
            db, project, status=status, label=label, batch=number, unused=unused
        )
    )
    records = [
        {
            "serial": card.serial,
            "batch": card.batch,
            "status": card.status,
            "balance": Amount(card.balance, unit),
            "line": line,
            "label": card.label,
            "expires": aware(card.expires_at).date().isoformat() if card.expires_at else None,
            "created": aware(card.created_at).isoformat(timespec="seconds"),
            "unit": unit,
        }
        for card, line in rows
    ]
    columns = ["serial", "batch", "status", "balance", "line", "label", "expires", "created"]
    emit_rows(records, columns, as_json=as_json, title=f"{len(records)} cards")


@cards_group.command("expire-due")
@actor_option
@json_option
def cards_expire_due(actor: str, as_json: bool) -> None:
    """Expire every card past its expiry date (run it daily, e.g. from cron)."""
    done = run_with_db(lambda db: card_life.expire_due(db, actor=actor))
    if as_json:
        emit_record({"expired": done.serials, "in_call": done.in_call}, as_json=True)
        return
    click.echo(f"{len(done.serials)} cards expired" + "".join(f"\n  {s}" for s in done.serials))
    if done.in_call:
        click.echo(f"{len(done.in_call)} in a call now, expired by the next run: "
                   + ", ".join(done.in_call))  # fmt: skip


@click.command("history")
@click.option("--card", help="card serial")
@click.option("--project", help="project name or id")
@json_option
def history(card: str | None, project: str | None, as_json: bool) -> None:
    """Operator changes (block, unblock, line move, tariff, refund, expiry, PIN reissue, adjust)
    and every money move but call charges (`calls` lists those): who, when, what and why."""
    if (card is None) == (project is None):
        raise OperatorError("give exactly one of --card and --project")

    async def action(
        db: Database,
    ) -> tuple[list[OperatorAction], tuple[list[tuple[LedgerEntry, str]], str]]:
        changes = await reports.history(db, card_ref=card, project_ref=project)
        return changes, await reports.money_moves(db, card_ref=card, project_ref=project)

    actions, (moves, unit) = run_with_db(action)
    records = [
        {
            "at": aware(a.at).isoformat(timespec="seconds"),
            "actor": a.actor,
            "action": a.action,
            "what": a.subject,
            "reason": a.reason,
        }
        for a in actions
    ] + [
        {
            "at": aware(e.at).isoformat(timespec="seconds"),
            "actor": e.actor,
            "action": f"money:{e.kind}",
            "what": f"{serial} {'+' if e.amount > 0 else ''}{show_amount(e.amount, unit)}"
            + (f" (key {e.idempotency_key})" if e.idempotency_key else ""),
            "reason": e.reason,
        }
        for e, serial in moves
    ]
    records.sort(key=lambda r: str(r["at"]))
    emit_rows(records, ["at", "actor", "action", "what", "reason"], as_json=as_json,
              title="history")  # fmt: skip


@click.group("card")
def card_group() -> None:
    """One card."""


@card_group.command("show")
@click.argument("card")
@json_option
def card_show(card: str, as_json: bool) -> None:
    """Balance, available credit, status, line and expiry of a card."""
    emit_record(run_with_db(lambda db: _card_view(db, card)), as_json=as_json, title="card")


@card_group.command("block")
@click.argument("card")
@actor_option
@reason_option
@json_option
def card_block(card: str, actor: str, reason: str | None, as_json: bool) -> None:
    """Block a card: no calls, no top-ups, until unblocked."""
    found: Card = run_with_db(
        lambda db: cardbatch.set_blocked(db, card, True, actor=actor, reason=reason)
    )
    _said(found, "blocked", as_json)


@card_group.command("unblock")
@click.argument("card")
@actor_option
@reason_option
@json_option
def card_unblock(card: str, actor: str, reason: str | None, as_json: bool) -> None:
    """Unblock a card: it is active again (new, if it was never activated)."""
    found: Card = run_with_db(
        lambda db: cardbatch.set_blocked(db, card, False, actor=actor, reason=reason)
    )
    _said(found, "unblocked", as_json)


@card_group.command("refund")
@click.argument("card")
@click.argument("amount")
@click.option("--reason", required=True, help="why, for the books")
@actor_option
@json_option
def card_refund(card: str, amount: str, reason: str, actor: str, as_json: bool) -> None:
    """Pay AMOUNT back to the customer: a refund entry takes it from the balance."""

    async def action(db: Database) -> tuple[LedgerEntry, str]:
        _, unit = await _card_and_unit(db, card)
        value = parse_amount(amount, unit)
        return await card_life.refund(db, card, value, reason=reason, actor=actor), unit

    entry, unit = run_with_db(action)
    emit_record(_entry_dict(entry, unit), as_json=as_json, title="refund")


@card_group.command("expire")
@click.argument("card")
@click.option("--reason", required=True, help="why, for the books")
@actor_option
@json_option
def card_expire(card: str, reason: str, actor: str, as_json: bool) -> None:
    """Expire a card now: an expiry entry takes the rest of its balance."""

    async def action(db: Database) -> tuple[LedgerEntry | None, str]:
        _, unit = await _card_and_unit(db, card)
        return await card_life.expire(db, card, reason=reason, actor=actor), unit

    entry, unit = run_with_db(action)
    taken = Amount(-entry.amount if entry else 0, unit)
    if as_json:
        emit_record({"serial": card, "status": "expired", "taken": taken, "unit": unit},
                    as_json=True)  # fmt: skip
        return
    click.echo(f"card {card} expired; {taken} taken from its balance")


@card_group.command("reissue-pin")
@click.argument("card")
@click.option("--reason", required=True, help="why, for the audit trail")
@actor_option
@json_option
def card_reissue_pin(card: str, reason: str, actor: str, as_json: bool) -> None:
    """A new PIN for CARD, shown once; the old PIN no longer activates it."""
    pin = run_with_db(
        lambda db: card_life.reissue_pin(db, card, secret=secret(), reason=reason, actor=actor)
    )
    emit_record({"serial": card, "pin": pin}, as_json=as_json, title="new PIN (shown once)")


def _said(card: Card, what: str, as_json: bool) -> None:
    if as_json:
        emit_record({"serial": card.serial, "status": card.status}, as_json=True)
    else:
        click.echo(f"card {card.serial} {what} (status {card.status})")


def _entry_dict(entry: LedgerEntry, unit: str) -> dict[str, object]:
    return {
        "id": entry.id,
        "at": aware(entry.at).isoformat(timespec="seconds"),
        "kind": entry.kind,
        "amount": Amount(entry.amount, unit),
        "balance_after": Amount(entry.balance_after, unit),
        "unit": unit,
        "actor": entry.actor,
        "reason": entry.reason,
        "key": entry.idempotency_key,
    }


async def _card_and_unit(db: Database, serial: str) -> tuple[Card, str]:
    found = await cardbatch.get_card(db, serial)
    return found, (await projects.get_project(db, found.project_id)).unit


async def _unit_of(db: Database, card_id: int) -> str:
    async with db.transaction() as session:
        card = await session.get_one(Card, card_id)
        return (await session.get_one(Project, card.project_id)).unit


@click.command("topup")
@click.argument("card")
@click.argument("amount")
@click.option("--idempotency-key", help="the same key credits only once")
@actor_option
@json_option
def topup(card: str, amount: str, idempotency_key: str | None, actor: str, as_json: bool) -> None:
    """Credit AMOUNT ("25", "25 Euro", "25 €", "25,00"; minutes for minute cards)."""

    async def action(db: Database) -> tuple[ledger.TopUp, str]:
        found, unit = await _card_and_unit(db, card)
        value = parse_amount(amount, unit)
        return await ledger.topup(db, found.id, value, actor=actor, key=idempotency_key), unit

    done, unit = run_with_db(action)
    _moved(done, unit, idempotency_key, as_json, "top-up", "credited")


@click.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("card")
@click.argument("amount")
@click.option("--reason", required=True, help="why, for the books")
@click.option("--idempotency-key", help="the same key adjusts only once")
@actor_option
@json_option
def adjust(
    card: str, amount: str, reason: str, idempotency_key: str | None, actor: str, as_json: bool
) -> None:
    """Correct a balance by ±AMOUNT, with a reason for the books (and the audit trail)."""

    async def action(db: Database) -> tuple[ledger.TopUp, str]:
        found, unit = await _card_and_unit(db, card)
        value = parse_amount(amount, unit, signed=True)
        done = await adjustments.adjust(
            db, found.id, value, actor=actor, reason=reason, key=idempotency_key
        )
        return done, unit

    done, unit = run_with_db(action)
    _moved(done, unit, idempotency_key, as_json, "adjustment", "adjusted")


def _moved(
    done: ledger.TopUp, unit: str, key: str | None, as_json: bool, title: str, verb: str
) -> None:
    if done.replayed and not as_json:
        click.echo(f"already {verb} (idempotency key {key}): nothing new")
    emit_rows(
        [_entry_dict(e, unit) for e in done.entries],
        ["kind", "amount", "balance_after", "actor", "key"],
        as_json=as_json,
        title=title,
    )


@click.group("line")
def line_group() -> None:
    """Caller lines bound to cards."""


@line_group.command("show")
@click.argument("card")
@json_option
def line_show(card: str, as_json: bool) -> None:
    """The caller line a card is bound to, and the line's own tariff if it has one."""

    async def action(db: Database) -> tuple[str | None, str | None]:
        line = await activation.line_of(db, card)
        if line is None:
            return None, None
        found = await cardbatch.get_card(db, card)
        return line, await line_prices.price_of(db, found.project_id, line)

    line, price = run_with_db(action)
    emit_record({"card": card, "line": line, "price": price}, as_json=as_json, title="line")


line_group.add_command(price_group)


@line_group.command("move")
@click.argument("card")
@click.argument("new_line", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="take the line from the card that holds it")
@actor_option
@reason_option
@json_option
def line_move(
    card: str,
    new_line: tuple[str, ...],
    force: bool,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Bind CARD to NEW_LINE (the customer's number changed); NEW_LINE may be several words."""
    moved = run_with_db(
        lambda db: activation.move_line(
            db, card, " ".join(new_line), force=force, actor=actor, reason=reason
        )
    )
    record = {"card": card, "old_line": moved.old_line, "new_line": moved.new_line}
    if moved.displaced:
        record["card_that_lost_the_line"] = moved.displaced
    if as_json:
        emit_record(record, as_json=True)
        return
    click.echo(f"card {card} moved from {moved.old_line or 'no line'} to {moved.new_line}")
    if moved.displaced:
        click.echo(f"card {moved.displaced} lost {moved.new_line} and has no line now")


@click.command("transactions")
@click.option("--card", help="card serial")
@click.option("--caller", help="caller line, E.164 or national")
@click.option("--since", help="YYYY-MM-DD")
@json_option
def transactions(card: str | None, caller: str | None, since: str | None, as_json: bool) -> None:
    """Ledger of a card or of a caller line, with the count and the last top-up (seed 003)."""
    if (card is None) == (caller is None):
        raise OperatorError("give exactly one of --card and --caller")
    since_at = _date(since, "--since") if since else None

    async def action(db: Database) -> tuple[reports.Transactions, dict[int, str]]:
        report = await reports.transactions(db, card_ref=card, line=caller, since=since_at)
        units = {
            card_id: await _unit_of(db, card_id) for card_id in {e.card_id for e in report.entries}
        }
        return report, units

    report, units = run_with_db(action)
    rows = [_entry_dict(e, units[e.card_id]) for e in report.entries]
    last = report.last_topup
    if as_json:
        emit_record(
            {
                "entries": rows,
                "topup_count": report.topup_count,
                "last_topup": _entry_dict(last, units[last.card_id]) if last else None,
            },
            as_json=True,
        )
        return
    emit_rows(
        rows,
        ["at", "kind", "amount", "balance_after", "actor", "reason"],
        as_json=False,
        title="transactions",
    )
    click.echo(
        f"top-ups: {report.topup_count}; last: "
        f"{last.at.isoformat(timespec='seconds') if last else 'none'}"
    )


@click.command("audit")
@click.option(
    "--strict",
    is_flag=True,
    help="every invariant of the books: holds, call records, idempotency rows, customer bills, "
    "fee report",
)
@json_option
def audit(strict: bool, as_json: bool) -> None:
    """Prove every card's balance equals the sum of its ledger, and that no settlement waits in
    the journal; with --strict every invariant of the books; exit 1 when one does not hold."""
    checked, problems = run_with_db(reports.audit)
    breaches = run_with_db(strict_audit.strict_audit) if strict else []
    rows = [vars(p) for p in problems]
    journal = Journal(default_path())
    try:
        waiting = [s.call_id for s in journal.pending()]
    except CardsError as exc:
        raise OperatorError(str(exc)) from exc
    if as_json:
        record: dict[str, object] = {
            "cards_checked": checked, "problems": rows, "journal_pending": waiting,
        }  # fmt: skip
        if strict:
            record["breaches"] = [vars(b) for b in breaches]
        emit_record(record, as_json=True)
    else:
        if waiting:
            click.echo(
                f"{len(waiting)} settlements wait in {journal.path}: run `cardadmin recover`"
            )
        if rows:
            emit_rows(
                rows,
                ["serial", "balance", "ledger_sum", "last_balance_after"],
                as_json=False,
                title="audit problems",
            )
        if breaches:
            emit_rows([vars(b) for b in breaches], ["invariant", "subject", "detail"],
                      as_json=False, title="invariants that do not hold")  # fmt: skip
        click.echo(f"{checked} cards checked, {len(rows)} problems")
        if strict:
            click.echo(f"strict: {len(breaches)} invariants broken")
    if problems or waiting or breaches:
        raise SystemExit(1)


@click.command("recover")
@json_option
def recover(as_json: bool) -> None:
    """Apply the settlements the engine kept in its journal while the database was away."""
    journal = Journal(default_path())
    result = run_with_db(journal.replay)
    emit_record(
        {"journal": str(journal.path), "applied": result.applied, "left": result.left},
        as_json=as_json,
        title="recover",
    )
    if result.left:
        raise SystemExit(1)
