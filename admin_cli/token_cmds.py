"""``cardadmin token``: bearer tokens of the balance API, one project each."""

from __future__ import annotations

from collections.abc import Callable

import click

from admin_cli.errors import parse_count, parse_or_fail
from admin_cli.output import emit_record, emit_rows, json_option
from admin_cli.runner import run_with_db
from cards.clock import aware
from cards.models import ApiToken
from cards.services import token_caps, tokens


def token_dict(row: ApiToken) -> dict[str, object]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "scope": row.scope,
        "name": row.name,
        "max_amount": row.max_amount,
        "max_amount_per_day": row.max_amount_per_day,
        "created_at": aware(row.created_at).isoformat(timespec="seconds"),
        "revoked_at": aware(row.revoked_at).isoformat(timespec="seconds")
        if row.revoked_at
        else None,
    }


def cap_options(command: Callable[..., None]) -> Callable[..., None]:
    """--max-amount and --max-per-day, in the API's unit (1/10,000 EUR or card seconds)."""
    per_day = click.option(
        "--max-per-day", type=click.IntRange(min=1), default=None,
        help="the most its top-ups, credits, debits and refunds may add up to in a UTC day",
    )  # fmt: skip
    per_request = click.option(
        "--max-amount", type=click.IntRange(min=1), default=None,
        help="the most one top-up, credit or debit may move (the API's unit: 1/10,000 EUR "
        "or card seconds)",
    )  # fmt: skip
    return per_request(per_day(command))


@click.group("token")
def token_group() -> None:
    """Bearer tokens of the balance API."""


@token_group.command("create")
@click.option("--project", required=True, help="project name or id")
@click.option(
    "--scope",
    type=click.Choice(tokens.SCOPES),
    default="read",
    show_default=True,
    help="read: balances and records; write: also top-ups",
)
@click.option("--name", help="whose token it is, e.g. the shop; the ledger names it")
@cap_options
@json_option
def token_create(
    project: str,
    scope: str,
    name: str | None,
    max_amount: int | None,
    max_per_day: int | None,
    as_json: bool,
) -> None:
    """Create a token; it is shown once, here (only its hash is kept)."""
    token, row = run_with_db(
        lambda db: tokens.create(
            db, project, scope, name, max_amount=max_amount, max_amount_per_day=max_per_day
        )
    )
    record = {**token_dict(row), "token": token}
    emit_record(record, as_json=as_json, title="token (shown once)")


@token_group.command("caps")
@click.argument("token_id")
@cap_options
@json_option
def token_caps_cmd(
    token_id: str, max_amount: int | None, max_per_day: int | None, as_json: bool
) -> None:
    """Set a token's caps (both; one left out is lifted). An API move past one is refused with
    422 token_cap_per_request or token_cap_per_day."""
    number = parse_or_fail(parse_count, token_id, "TOKEN_ID")
    row = run_with_db(lambda db: token_caps.set_caps(db, number, max_amount, max_per_day))
    emit_record(token_dict(row), as_json=as_json)


@token_group.command("list")
@click.option("--project", help="only this project (name or id)")
@json_option
def token_list(project: str | None, as_json: bool) -> None:
    """Tokens with their scope and state (never the tokens themselves)."""
    rows = [token_dict(r) for r in run_with_db(lambda db: tokens.list_tokens(db, project))]
    columns = ["id", "project_id", "scope", "name", "created_at", "revoked_at"]
    emit_rows(rows, columns, as_json=as_json, title="tokens")


@token_group.command("revoke")
@click.argument("token_id")
@json_option
def token_revoke(token_id: str, as_json: bool) -> None:
    """Revoke a token at once."""
    number = parse_or_fail(parse_count, token_id, "TOKEN_ID")
    emit_record(token_dict(run_with_db(lambda db: tokens.revoke(db, number))), as_json=as_json)
