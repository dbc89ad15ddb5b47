"""``cardadmin calls``: call records (EVN) as a table, CSV or JSON; callers maskable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from admin_cli.errors import OperatorError
from admin_cli.output import Amount, emit_rows, json_option, write_csv
from admin_cli.runner import run_with_db
from cards.clock import aware
from cards.errors import CardsError
from cards.models import CallRecord
from cards.services import call_records

COLUMNS = (
    "caller", "dialed", "advisor", "answered_at", "charged_from", "ended_at", "billed_seconds",
    "cost", "charged", "tariff", "hangup_cause", "hangup_side",
)  # fmt: skip


def masked(number: str) -> str:
    """The last three digits as ``xxx``, as German itemised bills show callers."""
    return number[:-3] + "xxx" if len(number) > 3 else "xxx"


def _time(at: datetime | None) -> str | None:
    return aware(at).isoformat(timespec="seconds") if at else None


def record_dict(r: CallRecord, unit: str, tariff: str | None, mask: bool) -> dict[str, object]:
    return {
        "caller": masked(r.caller) if mask else r.caller,
        "dialed": r.dialed,
        "advisor": r.advisor,
        "answered_at": _time(r.answered_at),
        "charged_from": _time(r.charge_start_at),
        "ended_at": _time(r.ended_at),
        "billed_seconds": r.billed_seconds,
        "cost": Amount(r.cost, unit),
        "charged": Amount(r.charged, unit),
        "tariff": tariff,
        "hangup_cause": r.hangup_cause,
        "hangup_side": r.hangup_side,
        "unit": unit,
    }


@click.command("calls")
@click.option("--card", help="card serial")
@click.option("--caller", help="caller line, E.164 or national")
@click.option("--project", help="project name or id")
@click.option("--month", help="YYYY-MM")
@click.option("--since", help="YYYY-MM-DD")
@click.option("--mask", is_flag=True, help="show callers' last three digits as xxx")
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
    help="write the records as CSV to this file ('-': standard output)",
)  # fmt: skip
@json_option
def calls_cmd(
    card: str | None,
    caller: str | None,
    project: str | None,
    month: str | None,
    since: str | None,
    mask: bool,
    csv_path: Path | None,
    as_json: bool,
) -> None:
    """Call records with caller, numbers, times, billed seconds, cost, tariff and hang-up."""
    if month and since:
        raise OperatorError("give --month or --since, not both")
    try:
        start, end = call_records.month_bounds(month) if month else (None, None)
    except CardsError as exc:
        raise OperatorError(f"--{exc}") from exc
    if since:
        try:
            start = datetime.strptime(since.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise OperatorError(f"--since: write a date as YYYY-MM-DD, got {since!r}") from exc
    rows = run_with_db(
        lambda db: call_records.calls(
            db, card_ref=card, caller=caller, project_ref=project, since=start, until=end
        )
    )
    records = [record_dict(r, unit, tariff, mask) for r, unit, tariff in rows]
    if csv_path is not None:
        _write_csv(records, csv_path)
        return
    emit_rows(records, list(COLUMNS), as_json=as_json, title="calls")


def _write_csv(records: list[dict[str, object]], path: Path) -> None:
    columns = (*COLUMNS, "unit")
    rows = [[record[c] for c in columns] for record in records]
    write_csv(path, columns, rows, f"{len(records)} calls written to")
