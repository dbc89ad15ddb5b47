"""How cardadmin shows results: a rich table for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def emit_record(record: Mapping[str, Any], *, as_json: bool, title: str | None = None) -> None:
    """Show one record as a two-column table or as a JSON object."""
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in record.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)


def emit_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool, title: str
) -> None:
    """Show many records as a table with ``columns`` or as a JSON list."""
    if as_json:
        click.echo(json.dumps(list(rows), ensure_ascii=False, sort_keys=True, default=str))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)
