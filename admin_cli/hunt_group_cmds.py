"""``cardadmin advisor group set|show|clear``: which advisors an advisor number rings (issue 23)."""

from __future__ import annotations

import click

from admin_cli.errors import parse_count, parse_or_fail
from admin_cli.output import actor_option, emit_record, json_option, reason_option
from admin_cli.runner import run_with_db
from cards.hunt import Strategy
from cards.services import hunt_groups


def group_dict(view: hunt_groups.GroupView) -> dict[str, object]:
    return {
        "number": view.number,
        "advisors": list(view.advisors),
        "strategy": view.strategy.value,
        "ring_timeout_s": view.timing.ring_timeout_s,
        "overall_timeout_s": view.timing.overall_timeout_s,
        "wrapup_s": view.timing.wrapup_s,
        "extensions": view.timing.extensions,
    }


@click.group("group")
def group_group() -> None:
    """The advisors an advisor number rings, the strategy and the timeouts."""


@group_group.command("set")
@click.argument("number", nargs=-1, required=True)
@click.option(
    "--advisor",
    "names",
    multiple=True,
    required=True,
    help="an advisor of the number's project (repeat, in the order to ring them)",
)
@click.option(
    "--strategy",
    type=click.Choice([s.value for s in Strategy]),
    default="ordered",
    show_default=True,
    help="who is offered the call next",
)
@click.option(
    "--ring-timeout",
    default=str(hunt_groups.DEFAULT_RING_S),
    show_default=True,
    help="seconds one advisor rings before the next is tried",
)
@click.option(
    "--overall-timeout",
    default=str(hunt_groups.DEFAULT_OVERALL_S),
    show_default=True,
    help="seconds the whole hunt may take",
)
@click.option(
    "--wrap-up",
    default=str(hunt_groups.DEFAULT_WRAPUP_S),
    show_default=True,
    help="seconds after a call before the advisor is offered the next",
)
@click.option(
    "--extensions",
    is_flag=True,
    help="callers may type an advisor's extension and # after the announcement",
)
@actor_option
@reason_option
@json_option
def group_set(
    number: tuple[str, ...],
    names: tuple[str, ...],
    strategy: str,
    ring_timeout: str,
    overall_timeout: str,
    wrap_up: str,
    extensions: bool,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Let NUMBER ring these advisors (replaces its group; an audited change)."""
    timing = hunt_groups.Timing(
        parse_or_fail(parse_count, ring_timeout, "--ring-timeout"),
        parse_or_fail(parse_count, overall_timeout, "--overall-timeout"),
        parse_or_fail(parse_count, wrap_up, "--wrap-up"),
        extensions,
    )
    view = run_with_db(
        lambda db: hunt_groups.set_group(
            db, " ".join(number), list(names), strategy, timing, actor=actor, reason=reason
        )
    )
    emit_record(group_dict(view), as_json=as_json, title="group")


@group_group.command("show")
@click.argument("number", nargs=-1, required=True)
@json_option
def group_show(number: tuple[str, ...], as_json: bool) -> None:
    """The advisors NUMBER rings, in order, with strategy and timeouts."""
    view = run_with_db(lambda db: hunt_groups.get_group(db, " ".join(number)))
    emit_record(group_dict(view), as_json=as_json, title="group")


@group_group.command("clear")
@click.argument("number", nargs=-1, required=True)
@actor_option
@reason_option
@json_option
def group_clear(number: tuple[str, ...], actor: str, reason: str | None, as_json: bool) -> None:
    """NUMBER rings its own dial string again (an audited change)."""
    cleared = run_with_db(
        lambda db: hunt_groups.clear_group(db, " ".join(number), actor=actor, reason=reason)
    )
    if as_json:
        emit_record({"cleared": cleared}, as_json=True)
    else:
        click.echo(f"{cleared} rings its own dial string again")
