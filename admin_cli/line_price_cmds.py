"""``cardadmin line price``: a caller line's own tariff in a project (seed 004), audited."""

from __future__ import annotations

import click

from admin_cli.output import actor_option, emit_record, json_option, reason_option
from admin_cli.runner import run_with_db
from cards.services import line_prices


@click.group("price")
def price_group() -> None:
    """A caller line's own tariff (individual price per caller)."""


@price_group.command("set")
@click.argument("line", nargs=-1, required=True)
@click.option("--project", required=True, help="project name or id")
@click.option("--tariff", required=True, help="one of the project's tariffs")
@actor_option
@reason_option
@json_option
def price_set(
    line: tuple[str, ...], project: str, tariff: str, actor: str, reason: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Rate LINE's calls in the project with TARIFF from its next call on."""
    e164, name = run_with_db(
        lambda db: line_prices.set_price(
            db, project, " ".join(line), tariff, actor=actor, reason=reason
        )
    )
    emit_record({"line": e164, "project": project, "tariff": name}, as_json=as_json,
                title="line price")  # fmt: skip


@price_group.command("clear")
@click.argument("line", nargs=-1, required=True)
@click.option("--project", required=True, help="project name or id")
@actor_option
@reason_option
@json_option
def price_clear(
    line: tuple[str, ...], project: str, actor: str, reason: str | None, as_json: bool
) -> None:
    """Rate LINE like every caller again."""
    e164 = run_with_db(
        lambda db: line_prices.clear_price(db, project, " ".join(line), actor=actor, reason=reason)
    )
    emit_record({"line": e164, "project": project, "tariff": None}, as_json=as_json,
                title="line price")  # fmt: skip
