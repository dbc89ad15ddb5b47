"""``cardadmin report operator``: what the platform bills the line operator for a month."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from admin_cli.errors import OperatorError
from admin_cli.output import Amount, emit_rows, json_option
from admin_cli.runner import run_with_db
from cards.errors import CardsError
from cards.fees import FeeLine, FeeSchedule
from cards.services import call_records, fee_report
from rating import parse_eur

COLUMNS = ("project", "item", "quantity", "rate", "sum", "note")
COUNTS = ("minimum_minutes",)
SWITCHES = ("card_fees_charged",)


def read_schedule(path: Path | None, card_fees: bool) -> FeeSchedule:
    """The seed's figures, with a TOML file's changes: EUR amounts as text ("0.08")."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise OperatorError(f"--schedule {str(path)!r}: {exc}") from exc
        known = {f.name for f in fields(FeeSchedule)}
        for key, value in raw.items():
            if key not in known:
                raise OperatorError(f"--schedule: unknown key {key!r}")
            if key in COUNTS + SWITCHES:
                values[key] = value
            elif isinstance(value, str):
                try:
                    values[key] = parse_eur(value)
                except ValueError as exc:
                    raise OperatorError(f"--schedule {key}: {exc}") from exc
            else:
                raise OperatorError(f'--schedule {key}: write EUR as text, e.g. {key} = "0.08"')
    if card_fees:
        values["card_fees_charged"] = True
    try:
        return FeeSchedule.from_dict(values)
    except CardsError as exc:
        raise OperatorError(f"--schedule: {exc}") from exc


def _quantity(line: FeeLine) -> str:
    if line.per == "minute":
        return f"{line.quantity // 60}:{line.quantity % 60:02d} min"
    return str(line.quantity)


def _rate(line: FeeLine) -> str:
    per = {"minute": "/min", "card": "/card", "month": "/month", "once": " once"}[line.per]
    return f"{Amount(line.rate, 'money')}{per}"


def _row(project: str, line: FeeLine, as_json: bool) -> dict[str, object]:
    note = "announced, not charged yet" if line.announced else ""
    if as_json:
        return {
            "project": project, "item": line.item, "quantity": line.quantity, "per": line.per,
            "rate": line.rate, "sum": line.amount, "announced": line.announced, "unit": "money",
        }  # fmt: skip
    return {
        "project": project, "item": line.item, "quantity": _quantity(line), "rate": _rate(line),
        "sum": Amount(line.amount, "money"), "note": note,
    }  # fmt: skip


@click.group("report")
def report_group() -> None:
    """Reports for the line operator."""


@report_group.command("operator")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--project", help="project name or id (default: every project)")
@click.option(
    "--schedule", type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file changing the seed's fee figures",
)  # fmt: skip
@click.option("--card-fees", is_flag=True, help="charge the announced card fees")
@json_option
def report_operator(
    month: str, project: str | None, schedule: Path | None, card_fees: bool, as_json: bool
) -> None:
    """What the platform bills the operator: set-up, minimum usage, per talked minute (feed-in,
    Professional usage, 0800), and the announced card fees; totals per project and in all."""
    try:
        start, end = call_records.month_bounds(month)
    except CardsError as exc:
        raise OperatorError(f"--{exc}") from exc
    fees = read_schedule(schedule, card_fees)
    reports = run_with_db(lambda db: fee_report.operator_report(db, start, end, fees, project))
    rows: list[dict[str, object]] = []
    total = 0
    for proj, _usage, report in reports:
        rows += [_row(proj.name, line, as_json) for line in report.lines]
        total += report.total
        if not as_json:
            rows.append(
                {"project": proj.name, "item": "total", "sum": Amount(report.total, "money")}
            )
    if as_json:
        emit_rows(rows, COLUMNS, as_json=True, title="")
        return
    if len(reports) > 1:
        rows.append({"project": "all", "item": "total", "sum": Amount(total, "money")})
    emit_rows(rows, COLUMNS, as_json=False, title=f"platform fees {month}")
