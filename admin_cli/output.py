"""How cardadmin shows results: a rich table for people, JSON for scripts."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from admin_cli.errors import OperatorError
from cards.amounts import show_amount


@dataclass(frozen=True)
class Amount:
    """Money or card seconds: ``35.00 EUR`` in a table, the integer in JSON (which also says
    the unit)."""

    value: int
    unit: str

    def __str__(self) -> str:
        return show_amount(self.value, self.unit)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Amount) else str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def _table(title: str | None, columns: Sequence[str], rows: list[list[str]], header: bool) -> None:
    """Dates, numbers and amounts are never cut to "…": columns are as wide as their widest
    cell and the table as wide as it needs (a terminal wraps it, it does not lose digits)."""
    from rich.console import Console  # noqa: PLC0415  (rich costs 40 ms; --json never needs it)
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, show_header=header)
    widths = [
        max([len(c) if header else 0] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)
    ]
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column, min_width=width, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console = Console()
    needed = sum(widths) + 3 * len(widths) + 1
    if needed > console.width:
        console = Console(width=needed)
    console.print(table)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


actor_option = click.option(
    "--actor", default=_os_user, show_default="the OS user", help="who does this, for the audit"
)
reason_option = click.option("--reason", help="why, for the audit trail")

json_option = click.option(
    "--json", "as_json", is_flag=True, help="print JSON for scripts (integers, with the unit)"
)


def emit_record(record: Mapping[str, Any], *, as_json: bool, title: str | None = None) -> None:
    """Show one record as a two-column table or as a JSON object."""
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, sort_keys=True, default=_plain))
        return
    rows = [[key, _cell(value)] for key, value in record.items()]
    _table(title, ["field", "value"], rows, header=False)


def emit_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool, title: str
) -> None:
    """Show many records as a table with ``columns`` or as a JSON list."""
    if as_json:
        click.echo(json.dumps(list(rows), ensure_ascii=False, sort_keys=True, default=_plain))
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    _table(title, columns, cells, header=True)


def csv_cell(value: Any) -> Any:
    """CSV keeps integers (1/10,000 EUR or card seconds; a unit column says which)."""
    return value.value if isinstance(value, Amount) else value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], done: str) -> None:
    """``;``-separated rows to a file, or to stdout for ``-``; then ``done``, with the path."""

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows([[csv_cell(cell) for cell in row] for row in rows])

    if str(path) == "-":
        write(sys.stdout)
        return
    try:
        with path.open("w", newline="") as handle:
            write(handle)
    except OSError as exc:
        raise OperatorError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
    click.echo(f"{done} {path}")
