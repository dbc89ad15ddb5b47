"""``cardadmin first-callers``: the lines that no longer get the first-caller tariff."""

from __future__ import annotations

import click

from admin_cli.output import actor_option, emit_record, emit_rows, json_option, reason_option
from admin_cli.runner import run_with_db
from cards.clock import aware
from cards.services import first_callers


@click.group("first-callers")
def first_callers_group() -> None:
    """The first-caller list of a project (seed 003)."""


@first_callers_group.command("list")
@click.option("--project", required=True, help="project name or id")
@json_option
def first_callers_list(project: str, as_json: bool) -> None:
    """Lines on the list, with their first call and how many calls were billed since."""
    entries = run_with_db(lambda db: first_callers.listed(db, project))
    rows = [
        {
            "line": e.line,
            "first_call_at": aware(e.first_call_at).isoformat(timespec="seconds"),
            "calls": e.calls,
        }
        for e in entries
    ]
    emit_rows(rows, ["line", "first_call_at", "calls"], as_json=as_json, title="first callers")


@first_callers_group.command("add")
@click.argument("line", nargs=-1, required=True)
@click.option("--project", required=True, help="project name or id")
@actor_option
@reason_option
@json_option
def first_callers_add(
    line: tuple[str, ...], project: str, actor: str, reason: str | None, as_json: bool
) -> None:
    """Put LINE on the list: its next call gets the standard tariff."""
    entry = run_with_db(
        lambda db: first_callers.add(db, project, " ".join(line), actor=actor, reason=reason)
    )
    emit_record({"line": entry.line, "listed": True}, as_json=as_json, title="first callers")


@first_callers_group.command("remove")
@click.argument("line", nargs=-1, required=True)
@click.option("--project", required=True, help="project name or id")
@actor_option
@reason_option
@json_option
def first_callers_remove(
    line: tuple[str, ...], project: str, actor: str, reason: str | None, as_json: bool
) -> None:
    """Take LINE off the list: its next call gets the first-caller tariff again."""
    run_with_db(
        lambda db: first_callers.remove(db, project, " ".join(line), actor=actor, reason=reason)
    )
    emit_record({"line": " ".join(line), "listed": False}, as_json=as_json, title="first callers")
