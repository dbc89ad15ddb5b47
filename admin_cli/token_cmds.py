"""``cardadmin token``: bearer tokens of the balance API, one project each."""

from __future__ import annotations

import click

from admin_cli.errors import parse_count, parse_or_fail
from admin_cli.output import emit_record, emit_rows, json_option
from admin_cli.runner import run_with_db
from cards.clock import aware
from cards.models import ApiToken
from cards.services import tokens


def token_dict(row: ApiToken) -> dict[str, object]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "scope": row.scope,
        "name": row.name,
        "created_at": aware(row.created_at).isoformat(timespec="seconds"),
        "revoked_at": aware(row.revoked_at).isoformat(timespec="seconds")
        if row.revoked_at
        else None,
    }


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
@json_option
def token_create(project: str, scope: str, name: str | None, as_json: bool) -> None:
    """Create a token; it is shown once, here (only its hash is kept)."""
    token, row = run_with_db(lambda db: tokens.create(db, project, scope, name))
    record = {**token_dict(row), "token": token}
    emit_record(record, as_json=as_json, title="token (shown once)")


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
