"""``cardadmin webhook``: a project's outgoing webhooks to the shop, their deliveries and a
redelivery."""

from __future__ import annotations

import click

from admin_cli.amounts import parse_amount
from admin_cli.errors import parse_count, parse_or_fail
from admin_cli.output import actor_option, emit_record, emit_rows, json_option
from admin_cli.runner import run_with_db
from cards.clock import aware
from cards.db import Database
from cards.models import Webhook
from cards.services import projects, webhooks
from cards.services.outbox import EVENTS


def hook_dict(hook: Webhook) -> dict[str, object]:
    return {
        "id": hook.id,
        "project_id": hook.project_id,
        "url": hook.url,
        "events": hook.events,
        "low_balance": hook.low_balance,
        "created_at": aware(hook.created_at).isoformat(timespec="seconds"),
    }


@click.group("webhook")
def webhook_group() -> None:
    """Outgoing webhooks: the shop hears of top-ups, low and exhausted cards, ended calls."""


@webhook_group.command("add")
@click.option("--project", required=True, help="project name or id")
@click.argument("url")
@click.option("--events", required=True, help=f"comma-separated: {', '.join(EVENTS)}")
@click.option("--secret", help="the signing secret (default: generated and shown once)")
@click.option("--low-balance", help="card.low_balance fires below this (e.g. 5 €, 10 min)")
@actor_option
@json_option
def webhook_add(
    project: str, url: str, events: str, secret: str | None, low_balance: str | None,
    actor: str, as_json: bool,
) -> None:  # fmt: skip
    """Send the project's EVENTS to URL, signed with the secret (shown once, here)."""

    async def action(db: Database) -> webhooks.NewWebhook:
        kinds = webhooks.parse_events(events)
        unit = (await projects.get_project(db, project)).unit
        threshold = parse_amount(low_balance, unit) if low_balance is not None else None
        return await webhooks.add(
            db, project, url, kinds, actor=actor, secret=secret, low_balance=threshold
        )

    made = run_with_db(action)
    emit_record({**hook_dict(made.hook), "secret": made.secret}, as_json=as_json,
                title="webhook (the secret is shown once)")  # fmt: skip


@webhook_group.command("list")
@click.option("--project", required=True, help="project name or id")
@json_option
def webhook_list(project: str, as_json: bool) -> None:
    """The project's webhooks (never their secrets)."""
    rows = [hook_dict(h) for h in run_with_db(lambda db: webhooks.hooks_of(db, project))]
    emit_rows(rows, ["id", "url", "events", "low_balance", "created_at"], as_json=as_json,
              title="webhooks")  # fmt: skip


@webhook_group.command("remove")
@click.argument("webhook_id")
@actor_option
@json_option
def webhook_remove(webhook_id: str, actor: str, as_json: bool) -> None:
    """Remove a webhook: nothing more is sent to it, its deliveries go with it."""
    number = parse_or_fail(parse_count, webhook_id, "WEBHOOK_ID")
    hook = run_with_db(lambda db: webhooks.remove(db, number, actor=actor))
    emit_record(hook_dict(hook), as_json=as_json, title="removed")


@webhook_group.command("deliveries")
@click.argument("webhook_id")
@json_option
def webhook_deliveries(webhook_id: str, as_json: bool) -> None:
    """The webhook's latest 50 deliveries: state, attempts, next try, the last answer."""
    number = parse_or_fail(parse_count, webhook_id, "WEBHOOK_ID")
    rows = run_with_db(lambda db: webhooks.deliveries(db, number))
    if as_json:
        emit_rows(rows, [], as_json=True, title="deliveries")
        return
    shown = [
        {**row, "last": (row["tries"][-1]["error"] or row["tries"][-1]["status"])
         if row["tries"] else None}
        for row in rows
    ]  # fmt: skip
    emit_rows(shown, ["id", "type", "event_id", "state", "attempts", "next_at", "last"],
              as_json=False, title="deliveries")  # fmt: skip


@webhook_group.command("redeliver")
@click.argument("delivery_id")
@actor_option
@json_option
def webhook_redeliver(delivery_id: str, actor: str, as_json: bool) -> None:
    """Send a delivered or dead event again (same event id: the shop deduplicates)."""
    number = parse_or_fail(parse_count, delivery_id, "DELIVERY_ID")
    row = run_with_db(lambda db: webhooks.redeliver(db, number, actor=actor))
    emit_record({"id": row.id, "event_id": row.event_id, "state": row.state}, as_json=as_json)
