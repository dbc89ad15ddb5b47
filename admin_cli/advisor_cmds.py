"""``cardadmin advisor add|list|show|set|remove``: the people who take the calls (issue 23)."""

from __future__ import annotations

import click

from admin_cli.advisor_report_cmd import advisor_report_cmd
from admin_cli.errors import parse_or_fail
from admin_cli.hunt_group_cmds import group_group
from admin_cli.output import actor_option, emit_record, emit_rows, json_option, reason_option
from admin_cli.runner import run_with_db, secret
from cards.amounts import show_amount
from cards.clock import utcnow
from cards.models import Advisor
from cards.services import advisors
from rating import parse_eur

project_option = click.option("--project", required=True, help="project name or id")


def advisor_dict(a: Advisor, *, as_json: bool) -> dict[str, object]:
    return {
        "name": a.name,
        "dial_string": a.dial_string,
        "extension": a.extension,
        "payout_per_minute": a.payout_rate if as_json else show_amount(a.payout_rate, "money"),
        "state": advisors.live_state(a, utcnow()),
        "calls_taken": a.calls_taken,
    }


def issued_dict(issued: advisors.Issued, *, as_json: bool) -> dict[str, object]:
    """An advisor with the name of its own tariff (None: the number's tariffs rate its calls)."""
    return {**advisor_dict(issued.advisor, as_json=as_json), "tariff": issued.tariff}


def _show(issued: advisors.Issued, *, as_json: bool, title: str) -> None:
    record = issued_dict(issued, as_json=as_json)
    if issued.pin is not None:
        record["login_pin"] = issued.pin  # shown this once: only its keyed hash is kept
    emit_record(record, as_json=as_json, title=title)


def _payout(text: str | None) -> int | None:
    return None if text is None else parse_or_fail(parse_eur, text, "--payout")


@click.group("advisor")
def advisor_group() -> None:
    """Advisors: who takes the calls of an advisor number, and what they earn."""


@advisor_group.command("add")
@click.argument("name")
@project_option
@click.option("--dial", "dial_string", required=True, help="dial string, e.g. PJSIP/advisor1")
@click.option("--payout", default="0", show_default=True, help="EUR per talked minute")
@click.option("--extension", help="digits a caller may type to reach this advisor")
@click.option("--tariff", help="a tariff of the project rating the calls this advisor answers")
@actor_option
@reason_option
@json_option
def advisor_add(
    name: str,
    project: str,
    dial_string: str,
    payout: str,
    extension: str | None,
    tariff: str | None,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Add advisor NAME (logged in); its login PIN is shown once."""
    rate = _payout(payout) or 0
    pin_key = secret()
    issued = run_with_db(
        lambda db: advisors.add_advisor(
            db,
            project,
            name,
            dial_string,
            secret=pin_key,
            payout=rate,
            ext=extension,
            tariff=tariff,
            actor=actor,
            reason=reason,
        )
    )
    _show(issued, as_json=as_json, title="advisor added")


@advisor_group.command("list")
@project_option
@json_option
def advisor_list(project: str, as_json: bool) -> None:
    """Every advisor of a project with its live state."""
    rows = run_with_db(lambda db: advisors.list_advisors(db, project))
    emit_rows(
        [issued_dict(a, as_json=as_json) for a in rows],
        ["name", "dial_string", "extension", "payout_per_minute", "tariff", "state"],
        as_json=as_json,
        title="advisors",
    )


@advisor_group.command("show")
@click.argument("name")
@project_option
@json_option
def advisor_show(name: str, project: str, as_json: bool) -> None:
    """One advisor: dial string, extension, payout, live state."""
    _show(run_with_db(lambda db: advisors.get_advisor(db, project, name)), as_json=as_json,
          title="advisor")  # fmt: skip


@advisor_group.command("set")
@click.argument("name")
@project_option
@click.option("--dial", "dial_string", help="a new dial string")
@click.option("--payout", help="a new payout in EUR per talked minute")
@click.option("--extension", help='a new extension ("" takes it away)')
@click.option("--new-pin", is_flag=True, help="make a new login PIN (shown once)")
@click.option("--tariff", help='a tariff rating the calls it answers ("" takes it away)')
@actor_option
@reason_option
@json_option
def advisor_set(
    name: str,
    project: str,
    dial_string: str | None,
    payout: str | None,
    extension: str | None,
    new_pin: bool,
    tariff: str | None,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Change an advisor (an audited change)."""
    change = advisors.Change(dial_string, _payout(payout), extension, new_pin, tariff)
    pin_key = secret() if new_pin else None
    issued = run_with_db(
        lambda db: advisors.set_advisor(
            db, project, name, change, secret=pin_key, actor=actor, reason=reason
        )
    )
    _show(issued, as_json=as_json, title="advisor changed")


@advisor_group.command("remove")
@click.argument("name")
@project_option
@actor_option
@reason_option
@json_option
def advisor_remove(name: str, project: str, actor: str, reason: str | None, as_json: bool) -> None:
    """Remove an advisor that is in no call and no number's group (an audited change)."""
    removed = run_with_db(
        lambda db: advisors.remove_advisor(db, project, name, actor=actor, reason=reason)
    )
    if as_json:
        emit_record({"removed": removed}, as_json=True)
    else:
        click.echo(f"removed advisor {removed}")


advisor_group.add_command(group_group)


def _login_command(logged_in: bool) -> click.Command:
    word = "in" if logged_in else "out"

    @click.command(f"log{word}")
    @click.argument("name")
    @project_option
    @actor_option
    @reason_option
    @json_option
    def command(name: str, project: str, actor: str, reason: str | None, as_json: bool) -> None:
        done = run_with_db(
            lambda db: advisors.set_login(db, project, name, logged_in, actor=actor, reason=reason)
        )
        emit_record(issued_dict(done, as_json=as_json), as_json=as_json, title=f"logged {word}")

    command.help = (
        "Log an advisor in: offered calls from now on (an audited change)."
        if logged_in
        else "Log an advisor out: offered no calls; a call now goes on (an audited change)."
    )
    return command


advisor_group.add_command(_login_command(True))
advisor_group.add_command(_login_command(False))
advisor_group.add_command(advisor_report_cmd)
