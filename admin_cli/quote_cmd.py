"""``cardadmin quote``: price a call or a credit with the rating core, no database involved."""

from __future__ import annotations

import click

from admin_cli.errors import OperatorError, parse_count, parse_or_fail
from admin_cli.output import emit_record
from rating import (
    CallerClass,
    ChargingStart,
    Increments,
    Tariff,
    Unit,
    affordable_seconds,
    format_eur,
    parse_eur,
    quote,
    warning_instant,
)


def _tariff(
    unit: Unit,
    price: str | None,
    increments: str,
    connect_fee: str | None,
    free: str | None,
    multiplier: str,
) -> Tariff:
    inc = parse_or_fail(Increments.parse, increments, "--increments")
    free_s = parse_or_fail(parse_count, free, "--free") if free is not None else 0
    start = ChargingStart.FREE if free_s else ChargingStart.ANSWER
    if unit is Unit.MONEY:
        if price is None:
            raise OperatorError("--price is needed for a money tariff")
        fee = parse_or_fail(parse_eur, connect_fee, "--connect-fee") if connect_fee else 0
        prices = {CallerClass.FIXED: parse_or_fail(parse_eur, price, "--price")}
        multipliers: dict[CallerClass, int] = {}
    else:
        if price is not None:
            raise OperatorError("--price is for money tariffs; minute tariffs use --multiplier")
        fee = parse_or_fail(parse_count, connect_fee, "--connect-fee") if connect_fee else 0
        mult = parse_or_fail(parse_count, multiplier, "--multiplier")
        prices, multipliers = {}, {CallerClass.FIXED: mult}
    try:
        return Tariff(
            unit,
            inc,
            prices=prices,
            multipliers=multipliers,
            connect_fee=fee,
            charging_start=start,
            free_seconds=free_s,
        )
    except (ValueError, TypeError) as exc:
        raise OperatorError(str(exc)) from exc


def _show_amount(unit: Unit, value: int) -> str:
    return f"{format_eur(value)} EUR" if unit is Unit.MONEY else f"{value} card seconds"


@click.command("quote")
@click.option("--price", help="EUR per minute, e.g. 1.99 or 1,99 (money tariffs)")
@click.option("--increments", required=True, help="initial/subsequent seconds, e.g. 60/60, 30/6")
@click.option("--seconds", help="talk seconds of the call to price")
@click.option("--credit", help="credit in EUR: print the affordable seconds instead")
@click.option("--credit-minutes", help="credit in minutes (minute cards)")
@click.option("--connect-fee", help="EUR per call (money) or card seconds (minutes)")
@click.option("--free", help="free seconds after answer: 10, 20 or 30")
@click.option(
    "--unit",
    type=click.Choice([u.value for u in Unit]),
    default="money",
    show_default=True,
    help="money (EUR prices) or minutes (card seconds)",
)
@click.option(
    "--multiplier",
    default="1",
    show_default=True,
    help="card seconds per talk second (minute tariffs)",
)
@click.option(
    "--class",
    "caller_class",
    type=click.Choice([c.value for c in CallerClass]),
    default="fixed",
    help="the caller's line: fixed, mobile or foreign",
    show_default=True,
)
@click.option("--warn", help="warning lead in seconds (with --credit)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def quote_cmd(
    price: str | None,
    increments: str,
    seconds: str | None,
    credit: str | None,
    credit_minutes: str | None,
    connect_fee: str | None,
    free: str | None,
    unit: str,
    multiplier: str,
    caller_class: str,
    warn: str | None,
    as_json: bool,
) -> None:
    """Billed seconds and cost of a call, or the seconds a credit affords."""
    given = [
        name
        for name, v in (
            ("--seconds", seconds),
            ("--credit", credit),
            ("--credit-minutes", credit_minutes),
        )
        if v is not None
    ]
    if len(given) != 1:
        raise OperatorError("give exactly one of --seconds, --credit, --credit-minutes")
    the_unit = Unit(unit)
    tariff = _tariff(the_unit, price, increments, connect_fee, free, multiplier)
    cls = CallerClass(caller_class)
    if seconds is not None:
        if warn is not None:
            raise OperatorError("--warn goes with --credit or --credit-minutes")
        q = quote(tariff, cls, parse_or_fail(parse_count, seconds, "--seconds"))
        record: dict[str, object] = dict(q.as_dict())
        if not as_json:
            record["cost"] = _show_amount(the_unit, q.cost)
        emit_record(record, as_json=as_json, title="quote")
        return
    if credit is not None:
        if the_unit is not Unit.MONEY:
            raise OperatorError("--credit is EUR; minute cards take --credit-minutes")
        amount = parse_or_fail(parse_eur, credit, "--credit")
    else:
        if the_unit is not Unit.MINUTES:
            raise OperatorError("--credit-minutes needs --unit minutes")
        amount = parse_or_fail(parse_count, credit_minutes or "", "--credit-minutes") * 60
    n = affordable_seconds(tariff, cls, amount)
    result: dict[str, object] = {
        "unit": the_unit.value,
        "caller_class": cls.value,
        "credit": amount,
        "affordable_seconds": n,
        "cost_at_affordable": quote(tariff, cls, n).cost,
    }
    if warn is not None:
        result["warning_at_second"] = warning_instant(n, parse_or_fail(parse_count, warn, "--warn"))
    if not as_json:
        result["credit"] = _show_amount(the_unit, amount)
        result["cost_at_affordable"] = _show_amount(the_unit, quote(tariff, cls, n).cost)
    emit_record(result, as_json=as_json, title="affordable")
