"""Entry point of ``cardadmin``: the command group and the one-line error contract.

Commands are imported when they run: ``cardadmin --help``, ``quote`` and ``prompts text`` never
load SQLAlchemy or Alembic (0.64 s of imports), so they start in well under 0.25 s.
"""

from __future__ import annotations

import importlib
import sys

import click

from admin_cli.errors import EXIT_BAD_INPUT, one_line

COMMANDS: dict[str, tuple[str, str, str]] = {
    "adjust": ("card_cmds", "adjust", "Correct a balance by ±AMOUNT, with a reason."),
    "advisor": ("advisor_cmds", "advisor_group", "Advisors: who takes an advisor number's calls."),
    "asterisk": ("asterisk_cmds", "asterisk_group", "Asterisk configuration for this database."),
    "audit": ("card_cmds", "audit", "Check every balance against its ledger, and the journal."),
    "calls": ("calls_cmd", "calls_cmd", "Call records (EVN) of a card, a line or a project."),
    "card": ("card_cmds", "card_group", "One card."),
    "cards": ("card_cmds", "cards_group", "Batches of cards."),
    "customer": ("customer_cmds", "customer_group", "Customer accounts, prepaid or postpaid."),
    "db": ("project_cmds", "db_group", "Database schema."),
    "first-callers": ("first_caller_cmds", "first_callers_group", "The first-caller list."),
    "history": ("card_cmds", "history", "Operator changes of a card or a project, and why."),
    "hours": ("hours_cmds", "hours_group", "Opening hours of advisor numbers."),
    "line": ("card_cmds", "line_group", "Caller lines bound to cards."),
    "order": ("order_cmds", "order_group", "Mark an online order paid (transfer) or void it."),
    "orders": ("order_cmds", "orders_group", "Callers' online top-up orders."),
    "number": ("project_cmds", "number_group", "Card and advisor numbers routed to the engine."),
    "project": ("project_cmds", "project_group", "Projects (billing profiles)."),
    "prompts": ("prompt_cmds", "prompts_group", "Caller prompts (German and English)."),
    "quote": ("quote_cmd", "quote_cmd", "Billed seconds and cost of a call, or what credit buys."),
    "recover": ("card_cmds", "recover", "Apply the settlements waiting in the engine's journal."),
    "report": ("report_cmd", "report_group", "Reports for the operator (platform fees)."),
    "statement": ("customer_cmds", "statement_cmd", "A customer's monthly statement."),
    "tariff": ("project_cmds", "tariff_group", "Tariffs of a project."),
    "token": ("token_cmds", "token_group", "Bearer tokens of the balance API."),
    "topup": ("card_cmds", "topup", "Credit AMOUNT to a card (25, 25 €, 25,00; minutes)."),
    "transactions": ("card_cmds", "transactions", "Ledger of a card or of a caller line."),
}
"""name → (module in admin_cli, attribute, the one line ``cardadmin --help`` shows)."""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(f"admin_cli.{module}"), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup)
@click.version_option(package_name="minutecard", prog_name="cardadmin")
def cli() -> None:
    """Operate minutecard: projects, numbers, tariffs, cards, top-ups, audits."""


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
