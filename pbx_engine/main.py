"""``cardengine run``: connect to Asterisk, serve the Stasis app, stop gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import click

from cards.db import Database
from cards.errors import CardsError
from pbx_engine.ari.client import AriClient
from pbx_engine.clock import RealClock
from pbx_engine.config import Settings, load
from pbx_engine.engine import Engine, EngineConfig

log = logging.getLogger("minutecard")


async def serve(settings: Settings) -> None:
    db = Database(settings.database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AriClient(
        settings.ari_url, settings.ari_user, settings.ari_password, settings.app
    ) as ari:
        engine = Engine(
            ari,
            db,
            RealClock(),
            EngineConfig(
                app=settings.app,
                pin_secret=settings.pin_secret,
                caller_format=settings.caller_format,
            ),
        )
        tasks = [
            asyncio.create_task(engine.run(), name="events"),
            asyncio.create_task(engine.poll_credit(), name="credit"),
        ]
        log.info("cardengine serving app %s on %s", settings.app, settings.ari_url)
        await stop.wait()
        log.info(
            "stopping: no new calls; %d live calls get up to %d s",
            len(engine.calls),
            settings.drain_seconds,
        )
        await engine.drain(settings.drain_seconds * 1000)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await db.close()
    log.info("stopped; every call settled")


@click.group()
def cli() -> None:
    """The minutecard call engine."""


@cli.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with [ari], [database], [engine]; environment overrides it",
)
def run(config_path: Path | None) -> None:
    """Serve the Stasis app until SIGTERM; then finish live calls (up to drain_seconds)."""
    try:
        settings = load(config_path)
    except CardsError as exc:
        raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(settings))


def main() -> None:
    try:
        cli.main(prog_name="cardengine", standalone_mode=False)
    except click.ClickException as exc:
        click.echo(f"cardengine: error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
