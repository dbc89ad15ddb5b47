"""Entry point of ``cardadmin``: the command group and the one-line error contract."""

from __future__ import annotations

import sys

import click

from admin_cli.asterisk_cmds import asterisk_group
from admin_cli.card_cmds import (
    adjust,
    audit,
    card_group,
    cards_group,
    line_group,
    recover,
    topup,
    transactions,
)
from admin_cli.errors import EXIT_BAD_INPUT, one_line
from admin_cli.project_cmds import db_group, number_group, project_group, tariff_group
from admin_cli.prompt_cmds import prompts_group
from admin_cli.quote_cmd import quote_cmd


@click.group()
@click.version_option(package_name="minutecard", prog_name="cardadmin")
def cli() -> None:
    """Operate minutecard: projects, numbers, tariffs, cards, top-ups, audits."""


for command in (
    quote_cmd,
    db_group,
    project_group,
    number_group,
    tariff_group,
    cards_group,
    card_group,
    topup,
    adjust,
    line_group,
    transactions,
    audit,
    recover,
    prompts_group,
    asterisk_group,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; any usage or operator error prints one line and exits 2."""
    try:
        cli.main(args=argv, prog_name="cardadmin", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))  # bare `cardadmin`: the usage
        return 0
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.Abort:
        click.echo("cardadmin: aborted", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"cardadmin: error: {one_line(exc.format_message())}", err=True)
        return exc.exit_code if exc.exit_code else EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
