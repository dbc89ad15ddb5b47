"""``cardengine run``: connect to Asterisk, serve the Stasis app, stop gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web

from cards.db import Database, sqlite_file
from cards.errors import CardsError
from cards.journal import STORAGE_ERRORS, Journal, default_path
from cards.migrate import current_revision, head_revision
from cards.pins import fingerprint
from cards.services import projects
from pbx_engine.agi import app as agi
from pbx_engine.agi.app import AgiApp
from pbx_engine.agi.routes import AgiRoutes
from pbx_engine.api import app as api
from pbx_engine.api.app import Status
from pbx_engine.api.limits import Limits
from pbx_engine.api.openapi_doc import server_url
from pbx_engine.ari.client import AriAuthError, AriClient
from pbx_engine.clock import RealClock
from pbx_engine.config import Settings, load
from pbx_engine.credit_watch import CreditWatcher
from pbx_engine.engine import Engine, EngineConfig
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.service import Payments
from pbx_engine.pressure import ShedLimits, probe_loop_lag
from pbx_engine.stale_sweeper import StaleSweeper
from pbx_engine.web import routes as pay_pages
from pbx_engine.webhook_sender import WebhookSender

log = logging.getLogger("minutecard")
T = TypeVar("T")


async def check_database(db: Database, secret: bytes) -> None:
    """Refuse to start on a database that is missing or behind (the event task would die later)
    or whose projects' PINs were made under another PIN secret (no caller could activate)."""
    path = sqlite_file(db.url)
    if path is not None and not path.exists():
        raise StartupError(f"no database at {path}: run `cardadmin db upgrade`")
    try:
        current = await current_revision(db)
    except STORAGE_ERRORS as exc:
        raise StartupError(f"database unreachable: {exc}") from exc
    head = head_revision()
    if current != head:
        have = current or "no schema"
        raise StartupError(f"database is at {have}, needs {head}: run `cardadmin db upgrade`")
    mark = fingerprint(secret)
    others = [p.name for p in await projects.list_projects(db) if p.pin_key not in (None, mark)]
    if others:
        raise StartupError(
            f"the PIN secret is not the one the PINs of {', '.join(others)} were made with "
            f"(this one's fingerprint is {mark}; see `cardadmin project show`)"
        )


class StartupError(Exception):
    """The engine cannot serve: a line for the operator, exit 2."""


async def serve(settings: Settings) -> int:
    """Serve until SIGTERM (exit 0) or until an engine task dies (exit 1, cause logged last)."""
    db = Database(settings.database_url)
    try:
        await check_database(db, settings.pin_secret)
        journal = Journal(Path(settings.journal) if settings.journal else default_path())
        replayed = await journal.replay(db)
        if replayed.applied or replayed.left:
            log.warning("journal at start: %d applied, %d left", replayed.applied, replayed.left)
        return await _serve(settings, db, journal)
    finally:
        await db.close()


async def _serve(settings: Settings, db: Database, journal: Journal) -> int:
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
                checkpoint_ms=settings.checkpoint_seconds * 1000,
                max_calls=settings.max_calls,
                shed=ShedLimits(settings.shed_loop_lag_ms, settings.shed_ari_answer_ms),
                journal=journal,
            ),
        )
        ari.on_answer_ms = engine.pressure.ari_answer
        watcher = CreditWatcher(db, engine.credit_changed, engine.recheck_credit)
        sweeper = StaleSweeper(db, engine.clock, settings.checkpoint_seconds)
        payments = Payments(db, settings.payments)
        sender = WebhookSender(db, engine.clock)
        agi_server = await _start_agi(settings, db, engine)
        api_runner = await _start_api(settings, db, engine, ari, journal, payments, sender)
        tasks = [
            asyncio.create_task(engine.run(), name="events"),
            asyncio.create_task(watcher.run(), name="credit"),
            asyncio.create_task(engine.settler.replay_forever(), name="journal"),
            asyncio.create_task(sweeper.run(), name="stale holds"),
            asyncio.create_task(payments.sweep_forever(), name="unpaid orders"),
            asyncio.create_task(sender.run(), name="webhooks"),
            asyncio.create_task(probe_loop_lag(engine.pressure, engine.clock), name="loop lag"),
        ]
        stopping = asyncio.create_task(stop.wait(), name="signal")
        log.info("cardengine serving app %s on %s", settings.app, settings.ari_url)
        waiting: list[asyncio.Future[Any]] = [*tasks, stopping, engine.failed]
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        failure = _failure(done, engine)
        if failure is None:
            log.info(
                "stopping: no new calls; %d live calls get up to %d s",
                len(engine.calls),
                settings.drain_seconds,
            )
        await engine.drain(0 if failure else settings.drain_seconds * 1000)
        if agi_server is not None:
            agi_server.close()
            await agi_server.wait_closed()
        if api_runner is not None:
            await api_runner.cleanup()
        await payments.close()
        for task in (*tasks, stopping):
            task.cancel()
        await asyncio.gather(*tasks, stopping, return_exceptions=True)
    if failure is not None:
        log.error("cardengine stopped: %s", failure)
        return 1
    log.info("stopped; every call settled")
    return 0


async def _start_agi(settings: Settings, db: Database, engine: Engine) -> asyncio.Server | None:
    """FastAGI mode, when a port is set: served at once, also while ARI is still unreachable;
    its settlements go through the engine's settler (retries, then the journal)."""
    if settings.agi_port is None:
        return None
    routes = AgiRoutes(db, engine.settler, settings.pin_secret, settings.caller_format)
    host, port = settings.agi_host, settings.agi_port
    app = AgiApp(routes.table(), settings.agi_allow)
    return await _listen("FastAGI", host, port, agi.serve(app, host, port))


async def _start_api(
    settings: Settings,
    db: Database,
    engine: Engine,
    ari: AriClient,
    journal: Journal,
    payments: Payments,
    sender: WebhookSender,
) -> web.AppRunner | None:
    """The balance API, /health, /metrics and the pay pages (/pay), when a port is set: served
    at once, also while ARI is unreachable (/health says so)."""
    if settings.api_port is None:
        return None
    status = Status(
        ari_connected=lambda: ari.connected,
        live_calls=lambda: len(engine.calls),
        settle_retries=lambda: engine.settler.retries,
        journal=journal,
        live_talks=engine.live_talks,
        outcomes=lambda: engine.settler.outcomes,
        billed_seconds=lambda: engine.settler.billed_seconds,
        ari_connects=lambda: ari.connects,
        webhooks=sender,
        refused=lambda: engine.refused,
        loop_lag=lambda: (engine.pressure.lag_counts, engine.pressure.lag_sum_ms),
    )
    limits = Limits(
        shutdown_seconds=settings.api_shutdown_seconds,
        allow=settings.api_allow,
        trusted_proxies=settings.api_trusted_proxies,
    )
    host, port = settings.api_host, settings.api_port

    def pages(app: web.Application) -> None:
        if settings.web is not None:
            pay_pages.mount(app, db, settings.web, settings.pin_secret, payments)

    more = [PaymentRoutes(payments).add_to, pages]  # the callbacks first: /pay/webhook/…
    url = server_url(settings.api_public_url, host, port)
    serving = api.serve(api.Api(db, status, limits, url), host, port, more)
    return await _listen("the API", host, port, serving)


async def _listen(what: str, host: str, port: int, serving: Awaitable[T]) -> T:
    """Await ``serving``; a port that cannot be had is refused at start in one line."""
    try:
        listening = await serving
    except OSError as exc:
        raise StartupError(f"{what} cannot listen on {host}:{port}: {exc.strerror}") from exc
    log.info("%s on %s:%d", what, host, port)
    return listening


def _failure(done: set[asyncio.Future[Any]], engine: Engine) -> str | None:
    """Why the engine must stop, or None for a requested stop."""
    for future in done:
        name = future.get_name() if isinstance(future, asyncio.Task) else "call"
        if name == "signal":
            continue
        if future is engine.failed:
            return f"a call task died: {future.result()!r}"
        exc = future.exception()
        if isinstance(exc, AriAuthError):
            return str(exc)  # the operator's fix is in the message; no task name needed
        return f"the {name} task died: {exc!r}" if exc else f"the {name} task ended"
    return None


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
    try:
        code = asyncio.run(serve(settings))
    except StartupError as exc:
        log.error("cardengine cannot start: %s", exc)
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


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
