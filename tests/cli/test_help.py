"""Help: every command and option says in one line what it does; bare `cardadmin` prints the
usage; `--version` answers; every command that prints a result has `--json`."""

from __future__ import annotations

import subprocess
import sys

import click

from admin_cli.main import COMMANDS, cli, main

PRINTS_A_RESULT_WITHOUT_JSON = {"prompts build", "prompts text", "asterisk render"}


def walk(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += walk(command, f"{path} ")
        else:
            found.append((path, command))
    return found


def test_every_command_and_option_has_a_one_line_description() -> None:
    missing = []
    for path, command in walk(cli):
        if not command.help or "\n\n" in command.get_short_help_str(200):
            missing.append(path)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{path} {param.opts[0]}")
    assert missing == []


def test_commands_that_print_a_result_take_json() -> None:
    without = {
        path
        for path, command in walk(cli)
        if not any(isinstance(p, click.Option) and p.name == "as_json" for p in command.params)
    }
    assert without == PRINTS_A_RESULT_WITHOUT_JSON


def test_the_top_level_help_lists_every_command_in_one_line_each(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, (_, _, line) in COMMANDS.items():
        assert f"{name}  " in out and line in out and len(line) <= 70


def test_help_and_quote_load_no_database_or_table_library() -> None:
    """Why `cardadmin --help` starts in 0.08 s, not 0.9 s (bench/results/startup.json)."""
    probe = (
        "import sys; from admin_cli.main import main; main(['--help']); "
        "main(['quote', '--price', '1', '--increments', '60/60', '--seconds', '1', '--json']); "
        "heavy = ('sqlalchemy', 'alembic', 'rich', 'aiosqlite'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_bare_cardadmin_prints_the_usage_and_version_answers(capsys) -> None:
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Usage: cardadmin") and err == ""
    assert main(["--version"]) == 0
    assert "cardadmin, version 0.1.0" in capsys.readouterr().out
