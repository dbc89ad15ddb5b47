"""aiohttp's server with the API's limits at the connection: peers outside the allowlist and
connections past the per-address cap are closed before a byte is read, idle connections time
out, and the protocol layer's own answers (a bad request line, a header too long, a handler's
crash) are problem+json like every other, counted, and logged without a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from pbx_engine.api.limits import Limits
from pbx_engine.api.metrics import Instruments
from pbx_engine.api.problem import problem

log = logging.getLogger("minutecard.api")


class ApiServer(Server):
    """Counts connections per peer address and hands out ``ApiRequestHandler``s."""

    def __init__(self, *args: Any, limits: Limits, instruments: Instruments, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.limits, self.instruments = limits, instruments
        self.per_address: Tally[str] = Tally()

    def __call__(self) -> RequestHandler:
        return ApiRequestHandler(self, loop=self._loop, **self._kwargs)

    def admit(self, peer: str) -> str | None:
        """Why a new connection from ``peer`` is refused, or None (then it is counted)."""
        allow = self.limits.allow
        if allow is not None and not allow.permits(peer):
            return "allowlist"
        if self.per_address[peer] >= self.limits.connections_per_address:
            return "connections"
        self.per_address[peer] += 1
        return None

    def release(self, peer: str) -> None:
        self.per_address[peer] -= 1
        if self.per_address[peer] <= 0:
            del self.per_address[peer]


class ApiRequestHandler(RequestHandler):
    """One connection; refused ones are closed in ``connection_made``, before any read."""

    peer: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self._manager
        assert isinstance(server, ApiServer)  # only ApiServer makes these
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if peername else "unknown"
        refused = server.admit(peer)
        if refused is not None:
            server.instruments.throttled.labels(refused).inc()
            log.warning("API: connection from %s closed unread (%s)", peer, _WHY[refused])
            self._manager = None  # connection_lost then has nothing to undo
            transport.close()
            return
        self.peer = peer
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        server = self._manager
        if isinstance(server, ApiServer) and self.peer is not None:
            server.release(self.peer)
        super().connection_lost(exc)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answers outside the handlers, as problem+json; a client's malformed request
        is logged at INFO in one line, a crash at ERROR in one line (never a traceback)."""
        if request.writer.output_size > 0:  # as aiohttp: the answer has begun, cannot replace it
            raise ConnectionError("an error after the response started")
        if isinstance(exc, LineTooLong):
            status, code, detail = 431, "too_long", (
                f"the request line or a header is over {self.max_line_size} bytes"
            )  # fmt: skip
        elif isinstance(exc, BadHttpMessage) or status == 400:
            status, code, detail = 400, "bad_request", "this is not an HTTP request the API reads"
        elif status == 504:
            code, detail = "timeout", "the answer took too long"
        else:
            status, code, detail = 500, "internal", "the request failed on the server; it is logged"
        if status == 500:
            log.error("API: %s %s failed: %r", request.method, request.rel_url.path, exc)
        else:
            log.info("API: %d from %s: %s", status, request.remote, exc or message)
        server = self._manager
        if isinstance(server, ApiServer):
            server.instruments.requests.labels("protocol", str(status)).inc()
        response = problem(status, code, detail)
        response.force_close()
        return response


_WHY = {"allowlist": "not in [api] allow", "connections": "too many connections from it"}


class ApiRunner(web.AppRunner):
    """No lingering read after an answer: every body was read in time or is not coming."""

    def __init__(self, app: web.Application, limits: Limits, instruments: Instruments) -> None:
        super().__init__(
            app, access_log=None, keepalive_timeout=limits.idle_seconds,
            shutdown_timeout=limits.shutdown_seconds, lingering_time=0,
        )  # fmt: skip
        self.limits, self.instruments = limits, instruments

    async def _make_server(self) -> Server:
        default = await super()._make_server()  # runs the app's startup, freezes it
        return ApiServer(
            default.request_handler, request_factory=default.request_factory,
            loop=asyncio.get_running_loop(), limits=self.limits, instruments=self.instruments,
            **default._kwargs,
        )  # fmt: skip


async def serve(
    app: web.Application, limits: Limits, instruments: Instruments, host: str, port: int
) -> web.AppRunner:
    runner = ApiRunner(app, limits, instruments)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
