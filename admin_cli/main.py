"""Entry point of ``cardadmin``: the command group and the one-line error contract."""

from __future__ import annotations

import sys

import click

from admin_cli.errors import EXIT_BAD_INPUT
from admin_cli.quote_cmd import quote_cmd


@click.group()
def cli() -> None:
    """Operate minutecard: projects, numbers, tariffs, cards, top-ups, audits."""


cli.add_command(quote_cmd)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; any usage or operator error prints one line and exits 2."""
    try:
        cli.main(args=argv, prog_name="cardadmin", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("cardadmin: aborted", err=True)
        return 1
    except click.ClickException as exc:
        message = " ".join(exc.format_message().split())
        click.echo(f"cardadmin: error: {message}", err=True)
        return exc.exit_code if exc.exit_code else EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
