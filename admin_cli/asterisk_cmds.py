"""``cardadmin asterisk render``: the dialplan (and an ari.conf) for the numbers in the database."""

from __future__ import annotations

import os
from pathlib import Path

import click

from admin_cli.errors import OperatorError
from admin_cli.runner import run_with_db
from cards.db import Database
from cards.errors import CardsError
from cards.services import projects
from dialplan.render import NUMBERS_FILE, RoutedNumber, render_ari_conf, render_numbers

SAMPLES = Path(__file__).resolve().parent.parent / "asterisk_conf"


async def routed(db: Database) -> list[RoutedNumber]:
    names = {p.id: p.name for p in await projects.list_projects(db)}
    return [
        RoutedNumber(n.e164, n.role, names[n.project_id]) for n in await projects.list_numbers(db)
    ]


def _write(path: Path, text: str, *, private: bool) -> None:
    """ari.conf holds the ARI password: 0600 from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    if private:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode under O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@click.group("asterisk")
def asterisk_group() -> None:
    """Asterisk configuration for this database."""


@asterisk_group.command("render")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="directory to write to (/etc/asterisk on the PBX)",
)
@click.option(
    "--app", default="minutecard", show_default=True, help="the Stasis app name of cardengine"
)
@click.option(
    "--mode",
    type=click.Choice(["ari", "agi"]),
    default="ari",
    show_default=True,
    help="ari: calls go to cardengine (Stasis); agi: the dialplan keeps them, Dial(…,L())",
)
@click.option(
    "--agi",
    "agi_url",
    default="agi://127.0.0.1:4573",
    show_default=True,
    help="where cardengine serves FastAGI ([agi] port)",
)
@click.option(
    "--with-samples",
    is_flag=True,
    help="also write the sample configs of asterisk_conf/ (ari.conf with the password "
    "from MINUTECARD_ARI_PASSWORD)",
)
def render(out_dir: Path, app: str, mode: str, agi_url: str, with_samples: bool) -> None:
    """Write minutecard-numbers.conf (and with --with-samples the other configs) to --out."""
    numbers = run_with_db(routed)
    try:
        files = {NUMBERS_FILE: render_numbers(numbers, app, mode=mode, agi=agi_url)}
        if with_samples:
            password = os.environ.get("MINUTECARD_ARI_PASSWORD", "")
            if not password:
                raise OperatorError("set MINUTECARD_ARI_PASSWORD for ari.conf")
            for sample in sorted(SAMPLES.glob("*.conf")):
                text = sample.read_text()
                if sample.name == "ari.conf":
                    text = render_ari_conf(text, password)
                files[sample.name] = text
    except CardsError as exc:
        raise OperatorError(str(exc)) from exc
    try:  # everything rendered and checked first: a refusal writes nothing
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            _write(out_dir / name, text, private=name == "ari.conf")
    except OSError as exc:
        raise OperatorError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    click.echo(f"{len(numbers)} numbers rendered to {out_dir / NUMBERS_FILE}")
