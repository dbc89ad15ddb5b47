"""``cardadmin advisor report``: what each advisor did in a month and is owed (issue 23)."""

from __future__ import annotations

from pathlib import Path

import click

from admin_cli import advisor_statement_pdf
from admin_cli.errors import OperatorError
from admin_cli.output import Amount, emit_rows, json_option, write_csv
from admin_cli.runner import run_with_db
from cards.errors import CardsError
from cards.services import advisor_report
from cards.services.call_records import month_bounds

COLUMNS = ["advisor", "calls", "talked", "revenue", "payout"]


def _row(line: advisor_report.AdvisorMonth, unit: str, as_json: bool) -> dict[str, object]:
    minutes, seconds = divmod(line.talked_s, 60)
    return {
        "advisor": line.advisor,
        "calls": line.calls,
        "talked": line.talked_s if as_json else f"{minutes}:{seconds:02} min",
        "revenue": Amount(line.revenue, unit),
        "payout": Amount(line.payout, "money"),
    }


@click.command("report")
@click.option("--project", required=True, help="project name or id")
@click.option("--month", required=True, help="YYYY-MM (calls that ended in it, UTC)")
@click.option("--advisor", help="only this advisor")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the lines as ;-separated CSV (integers; - for stdout)",
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="with --advisor: the advisor's statement in German as a PDF",
)
@json_option
def advisor_report_cmd(
    project: str,
    month: str,
    advisor: str | None,
    csv_path: Path | None,
    pdf_path: Path | None,
    as_json: bool,
) -> None:
    """Calls, talked time, revenue charged and payout at each advisor's rate, per advisor."""
    try:
        month_bounds(month)
    except CardsError as exc:
        raise OperatorError(f"--{exc}") from exc
    if pdf_path is not None and advisor is None:
        raise OperatorError("--pdf is one advisor's statement: give --advisor too")
    unit, lines = run_with_db(lambda db: advisor_report.advisor_month(db, project, month, advisor))
    if pdf_path is not None:
        _write_pdf(lines, advisor, month, pdf_path)
        return
    rows = [_row(line, unit, as_json or csv_path is not None) for line in lines]
    if csv_path is not None:
        header = [*COLUMNS, "revenue_unit"]
        table = [[r[c] for c in COLUMNS] + [unit] for r in rows]
        write_csv(csv_path, header, table, "advisor report written to")
        return
    if not as_json and len(lines) > 1:
        rows.append({
            "advisor": "total",
            "calls": sum(line.calls for line in lines),
            "talked": "",
            "revenue": Amount(sum(line.revenue for line in lines), unit),
            "payout": Amount(sum(line.payout for line in lines), "money"),
        })  # fmt: skip
    emit_rows(rows, COLUMNS, as_json=as_json, title=f"advisors {month}")


def _write_pdf(
    lines: list[advisor_report.AdvisorMonth], advisor: str | None, month: str, path: Path
) -> None:
    if not lines:
        raise OperatorError(f"advisor {advisor!r} answered no call that ended in {month}")
    data = advisor_statement_pdf.render(lines[0], month)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OperatorError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
    click.echo(f"statement written to {path}")
