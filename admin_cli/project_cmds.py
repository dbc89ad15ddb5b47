"""``cardadmin db|project|number|tariff``: the set-up of a line operator's projects."""

from __future__ import annotations

import click

from admin_cli.amounts import parse_amount
from admin_cli.errors import OperatorError, parse_count, parse_or_fail
from admin_cli.output import (
    Amount,
    actor_option,
    emit_record,
    emit_rows,
    json_option,
    reason_option,
)
from admin_cli.runner import run_with_db
from cards.amounts import show_amount
from cards.db import Database
from cards.domain import NumberRole
from cards.migrate import current_revision, upgrade
from cards.models import Number, Project, Tariff
from cards.services import projects
from prompts.languages import LANGUAGES
from rating import CallerClass, ChargingStart, Increments, Unit, format_eur, parse_eur


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create or migrate the schema to the newest revision."""
    revision = run_with_db(_upgrade, creates=True)
    if as_json:
        emit_record({"revision": revision}, as_json=True)
    else:
        click.echo(f"database is up to date (revision {revision})")


async def _upgrade(db: Database) -> str | None:
    await upgrade(db)
    return await current_revision(db)


def project_dict(p: Project) -> dict[str, object]:
    settings = dict(p.settings)
    settings["denominations"] = [Amount(d, p.unit) for d in settings["denominations"]]
    settings["minimum_topup"] = Amount(settings["minimum_topup"], p.unit)
    settings["bonus"] = [
        {"denomination": Amount(int(k), p.unit), "bonus": Amount(v, p.unit)}
        for k, v in settings["bonus"].items()
    ]
    record: dict[str, object] = {"id": p.id, "name": p.name, "unit": p.unit, **settings}
    record["pin_secret_fingerprint"] = p.pin_key or "none yet (set by the first cards create)"
    return record


@click.group("project")
def project_group() -> None:
    """Projects (billing profiles)."""


@project_group.command("create")
@click.argument("name")
@click.option(
    "--unit",
    type=click.Choice([u.value for u in Unit]),
    required=True,
    help="what the cards hold: money (EUR) or minutes",
)
@click.option("--warning-lead", default="120", show_default=True, help="seconds")
@click.option("--pin-length", default="8", show_default=True, help="PIN digits, 4–12")
@click.option(
    "--denomination",
    "denominations",
    multiple=True,
    help="an allowed top-up (repeat: --denomination 15 --denomination 25)",
)
@click.option("--minimum", help="smallest top-up")
@click.option("--bonus", multiple=True, help="DENOMINATION=BONUS, e.g. 50=5")
@click.option(
    "--system", type=click.Choice(["basic", "professional"]), default="basic", show_default=True,
    help="the platform's line system (its usage fee per minute: Professional only)",
)  # fmt: skip
@json_option
def project_create(
    name: str,
    unit: str,
    warning_lead: str,
    pin_length: str,
    denominations: tuple[str, ...],
    minimum: str | None,
    bonus: tuple[str, ...],
    system: str,
    as_json: bool,
) -> None:
    """Create a project."""
    settings: dict[str, object] = {
        "warning_lead": parse_or_fail(parse_count, warning_lead, "--warning-lead"),
        "pin_length": parse_or_fail(parse_count, pin_length, "--pin-length"),
        "line_system": system,
    }
    settings["denominations"] = [parse_amount(d, unit) for d in denominations]
    if minimum:
        settings["minimum_topup"] = parse_amount(minimum, unit)
    table = {}
    for item in bonus:
        denom, sep, extra = item.partition("=")
        if not sep:
            raise OperatorError(f"--bonus must look like 50=5, got {item!r}")
        table[str(parse_amount(denom, unit))] = parse_amount(extra, unit)
    settings["bonus"] = table
    project = run_with_db(lambda db: projects.create_project(db, name, unit, settings))
    emit_record(project_dict(project), as_json=as_json, title="project created")


@project_group.command("list")
@json_option
def project_list(as_json: bool) -> None:
    """Every project with its settings."""
    rows = [project_dict(p) for p in run_with_db(projects.list_projects)]
    emit_rows(
        rows,
        ["id", "name", "unit", "warning_lead", "pin_length"],
        as_json=as_json,
        title="projects",
    )


@project_group.command("show")
@click.argument("project")
@json_option
def project_show(project: str, as_json: bool) -> None:
    """One project's settings and its PIN secret's fingerprint."""
    found = run_with_db(lambda db: projects.get_project(db, project))
    emit_record(project_dict(found), as_json=as_json, title="project")


def number_dict(n: Number) -> dict[str, object]:
    return {
        "number": n.e164,
        "project_id": n.project_id,
        "role": n.role,
        "destination": n.destination,
        "tariff_id": n.tariff_id,
        "accepts_mobile": n.accepts_mobile,
        "accepts_foreign": n.accepts_foreign,
        "accepts_payphone": n.accepts_payphone,
        "default_advisor": n.is_default_advisor,
        "lang": n.lang or "caller",
    }


@click.group("number")
def number_group() -> None:
    """Card and advisor numbers routed to the engine."""


@number_group.command("add")
@click.argument("number", nargs=-1, required=True)
@click.option("--project", required=True, help="project name or id")
@click.option(
    "--role",
    type=click.Choice([r.value for r in NumberRole]),
    required=True,
    help="card: callers activate here; advisor: callers reach an advisor here; "
    "login: advisors log in or out here with their PIN",
)
@click.option("--destination", help="advisor dial string, e.g. PJSIP/advisor1")
@click.option("--tariff", help="tariff name (advisor numbers)")
@click.option("--first-caller-tariff", help="tariff for callers not yet on the caller list")
@click.option(
    "--first-caller-days", default="0", help="days the first-caller tariff lasts (0: no limit)"
)
@click.option(
    "--first-caller-calls", default="0", help="calls the first-caller tariff lasts (0: no limit)"
)
@click.option("--mobile/--no-mobile", "mobile", default=None, help="accept mobile callers")
@click.option("--foreign/--no-foreign", "foreign", default=None, help="accept foreign callers")
@click.option("--payphone/--no-payphone", "payphone", default=True, help="accept payphones")
@click.option("--default", "default_advisor", is_flag=True, help="the card number's press-1")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    help="fix the prompt language (default: German for German callers, English for others)",
)
@json_option
def number_add(
    number: tuple[str, ...],
    project: str,
    role: str,
    destination: str | None,
    tariff: str | None,
    first_caller_tariff: str | None,
    first_caller_days: str,
    first_caller_calls: str,
    mobile: bool | None,
    foreign: bool | None,
    payphone: bool,
    default_advisor: bool,
    lang: str | None,
    as_json: bool,
) -> None:
    """Route NUMBER (E.164 or national, in one word or several: 089 12345670) to minutecard."""
    days = parse_or_fail(parse_count, first_caller_days, "--first-caller-days")
    calls = parse_or_fail(parse_count, first_caller_calls, "--first-caller-calls")
    row = run_with_db(
        lambda db: projects.add_number(
            db,
            project,
            " ".join(number),
            role,
            destination=destination,
            tariff=tariff,
            first_caller_tariff=first_caller_tariff,
            first_caller_days=days,
            first_caller_calls=calls,
            accepts_mobile=mobile,
            accepts_foreign=foreign,
            accepts_payphone=payphone,
            default_advisor=default_advisor,
            lang=lang,
        )
    )
    emit_record(number_dict(row), as_json=as_json, title="number added")


@number_group.command("list")
@click.option("--project", help="only this project (name or id)")
@json_option
def number_list(project: str | None, as_json: bool) -> None:
    """Every routed number with its role, tariff and caller rules."""
    rows = [number_dict(n) for n in run_with_db(lambda db: projects.list_numbers(db, project))]
    emit_rows(
        rows,
        ["number", "role", "destination", "accepts_mobile", "accepts_foreign", "default_advisor"],
        as_json=as_json,
        title="numbers",
    )


@number_group.command("remove")
@click.argument("number", nargs=-1, required=True)
@json_option
def number_remove(number: tuple[str, ...], as_json: bool) -> None:
    """Stop routing NUMBER (render the dialplan again afterwards)."""
    removed = run_with_db(lambda db: projects.remove_number(db, " ".join(number)))
    if as_json:
        emit_record({"removed": removed}, as_json=True)
    else:
        click.echo(f"removed {removed}")


def tariff_dict(t: Tariff, unit: str) -> dict[str, object]:
    rates = {
        f"{'price' if unit == 'money' else 'multiplier'}_{k}": (
            f"{format_eur(v)} EUR/min" if unit == "money" else v
        )
        for k, v in t.rates.items()
    }
    return {
        "name": t.name,
        "increments": f"{t.initial}/{t.subsequent}",
        **rates,
        "connect_fee": show_amount(t.connect_fee, unit)
        if unit == "money"
        else f"{t.connect_fee} s",
        "charging_start": t.charging_start,
        "free_seconds": t.free_seconds,
        "rounding_step": t.rounding_step,
        "max_call_seconds": t.max_call_seconds,
    }


@click.group("tariff")
def tariff_group() -> None:
    """Tariffs of a project."""


@tariff_group.command("set")
@click.option("--project", required=True, help="project name or id")
@click.option("--name", default="standard", show_default=True, help="tariff name")
@click.option("--increments", required=True, help="e.g. 60/60, 1/1, 60/1, 30/6")
@click.option("--price", help="EUR/min for fixed-line callers (money projects)")
@click.option("--price-mobile", help="EUR/min for mobile callers (default: --price)")
@click.option("--price-foreign", help="EUR/min for foreign callers (default: --price)")
@click.option("--multiplier", help="card seconds per talk second (minute projects)")
@click.option("--multiplier-mobile", help="card seconds per talk second, mobile callers")
@click.option("--multiplier-foreign", help="card seconds per talk second, foreign callers")
@click.option("--connect-fee", help="EUR (money) or card seconds (minutes)")
@click.option(
    "--charging-start",
    type=click.Choice([c.value for c in ChargingStart]),
    default="answer",
    show_default=True,
    help="when the clock starts: answer, after the tariff announcement, or after free seconds",
)
@click.option("--free", default="0", help="free seconds with --charging-start free: 10/20/30")
@click.option(
    "--rounding",
    type=click.Choice(["finest", "cent"]),
    default="finest",
    show_default=True,
    help="round each call's cost up to 1/10,000 EUR or to whole cents",
)
@click.option(
    "--max-call-seconds", default="14400", show_default=True, help="cap of one call in seconds"
)
@actor_option
@reason_option
@json_option
def tariff_set(
    project: str,
    name: str,
    increments: str,
    price: str | None,
    price_mobile: str | None,
    price_foreign: str | None,
    multiplier: str | None,
    multiplier_mobile: str | None,
    multiplier_foreign: str | None,
    connect_fee: str | None,
    charging_start: str,
    free: str,
    rounding: str,
    max_call_seconds: str,
    actor: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Create or replace a tariff (an audited change)."""
    inc = parse_or_fail(Increments.parse, increments, "--increments")
    free_s = parse_or_fail(parse_count, free, "--free")
    cap = parse_or_fail(parse_count, max_call_seconds, "--max-call-seconds")

    async def action(db: Database) -> tuple[Tariff, str]:
        unit = (await projects.get_project(db, project)).unit
        given = (
            (price, price_mobile, price_foreign)
            if unit == "money"
            else (multiplier, multiplier_mobile, multiplier_foreign)
        )
        other = (
            (multiplier, multiplier_mobile, multiplier_foreign)
            if unit == "money"
            else (price, price_mobile, price_foreign)
        )
        if any(other):
            raise OperatorError("money projects take --price*, minute projects --multiplier*")
        rates = {}
        for cls, text in zip(CallerClass, given, strict=True):
            if text is not None:
                rates[cls.value] = (
                    parse_or_fail(parse_eur, text, f"price {cls}")
                    if unit == "money"
                    else parse_or_fail(parse_count, text, f"multiplier {cls}")
                )
        if unit == "minutes" and "fixed" not in rates:
            rates["fixed"] = 1
        fee = 0
        if connect_fee:
            fee = (
                parse_or_fail(parse_eur, connect_fee, "--connect-fee")
                if unit == "money"
                else parse_or_fail(parse_count, connect_fee, "--connect-fee")
            )
        row = await projects.set_tariff(
            db,
            project,
            name,
            increments=inc,
            rates=rates,
            connect_fee=fee,
            charging_start=charging_start,
            free_seconds=free_s,
            rounding_step=100 if rounding == "cent" else 1,
            max_call_seconds=cap,
            actor=actor,
            reason=reason,
        )
        return row, unit

    row, unit = run_with_db(action)
    emit_record(tariff_dict(row, unit), as_json=as_json, title="tariff")


@tariff_group.command("show")
@click.option("--project", required=True, help="project name or id")
@click.option("--name", default="standard", show_default=True, help="tariff name")
@json_option
def tariff_show(project: str, name: str, as_json: bool) -> None:
    """One tariff: increments, prices, fees, charging start."""
    found_project, row = run_with_db(lambda db: projects.get_tariff(db, project, name))
    emit_record(tariff_dict(row, found_project.unit), as_json=as_json, title="tariff")
