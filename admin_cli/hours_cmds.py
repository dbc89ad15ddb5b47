"""``cardadmin hours set|show|clear``: when an advisor number takes calls (issue 23)."""

from __future__ import annotations

import click

from admin_cli.output import actor_option, emit_record, json_option, reason_option
from admin_cli.runner import run_with_db
from cards.opening_hours import DEFAULT_TZ, Hours
from cards.services import hours as hours_service


def hours_dict(number: str, hours: Hours) -> dict[str, object]:
    return {"number": number, **hours.to_json()}


@click.group("hours")
def hours_group() -> None:
    """Opening hours of advisor numbers: outside them callers hear "closed"."""


@hours_group.command("set")
@click.argument("number", nargs=-1, required=True)
@click.option(
    "--week",
    "week",
    multiple=True,
    required=True,
    help='open hours of weekdays, e.g. "mon-fri 09:00-18:00" (repeat)',
)
@click.option(
    "--date",
    "dated",
    multiple=True,
    help='a dated exception: "2026-12-24 closed" or "2026-12-31 10:00-14:00" (repeat)',
)
@click.option("--tz", default=DEFAULT_TZ, show_default=True, help="the hours' time zone")
@actor_option
@reason_option
@json_option
def hours_set(
    number: tuple[str, ...],
    week: tuple[str, ...],
    dated: tuple[str, ...],
    tz: str,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Replace NUMBER's opening hours (an audited change)."""
    e164, hours = run_with_db(
        lambda db: hours_service.set_hours(
            db, " ".join(number), list(week), list(dated), tz, actor=actor, reason=reason
        )
    )
    emit_record(hours_dict(e164, hours), as_json=as_json, title="opening hours")


@hours_group.command("show")
@click.argument("number", nargs=-1, required=True)
@json_option
def hours_show(number: tuple[str, ...], as_json: bool) -> None:
    """NUMBER's opening hours."""
    e164, hours = run_with_db(lambda db: hours_service.get_hours(db, " ".join(number)))
    emit_record(hours_dict(e164, hours), as_json=as_json, title="opening hours")


@hours_group.command("clear")
@click.argument("number", nargs=-1, required=True)
@actor_option
@reason_option
@json_option
def hours_clear(number: tuple[str, ...], actor: str, reason: str | None, as_json: bool) -> None:
    """NUMBER takes calls at any time again (an audited change)."""
    e164 = run_with_db(
        lambda db: hours_service.clear_hours(db, " ".join(number), actor=actor, reason=reason)
    )
    if as_json:
        emit_record({"cleared": e164}, as_json=True)
    else:
        click.echo(f"{e164} takes calls at any time")
