"""The middlewares before the handlers' own error mapping: one access-log line and a latency
observation per request; then the per-address authentication throttle, a bounded wait for the
body, and ``Allow`` on a 405."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import MatchInfoError

from cards.services.tokens import Grant
from pbx_engine.api.client import client_of, limit_key
from pbx_engine.api.problem import problem

if TYPE_CHECKING:
    from pbx_engine.api.app import Api, Handler

GRANT = web.RequestKey("grant", Grant)
"""Set by the handler that authenticated the request; the access log names its token."""
BODY_TOO_LARGE = web.RequestKey("body_too_large", bool)
"""Set for a sub-application's route (the pay pages) whose body was over the limit: it answers
in its own format (a page, not a problem+json)."""
access_log = logging.getLogger("minutecard.api.access")
OPEN_ROUTES = frozenset(
    {"/health", "/health/live", "/health/ready", "/metrics", "/v1/openapi.json"}
)
"""Answered also to an address the throttle holds: a monitor may share it with a bad client."""


def route_of(request: web.Request) -> str:
    """The route's pattern (``/v1/cards/{serial}``), never the path: no serial, no query."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def stack(api: Api) -> list[Middleware]:
    @web.middleware
    async def account(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Token id, route pattern, status and milliseconds; never the token, a PIN or a query."""
        started = time.perf_counter_ns()
        status = 500  # what aiohttp answers for an exception that passes here
        try:
            response = await handler(request)
            status = response.status
            return response
        except asyncio.CancelledError:
            status = 499  # the client went away (nginx's number): nothing was answered
            raise
        finally:
            elapsed_ns = time.perf_counter_ns() - started
            route = route_of(request)
            api.instruments.latency.labels(route).observe(elapsed_ns / 1e9)
            grant = request.get(GRANT)
            access_log.info(
                "%s token=%s %s %s %d %dms",
                client_of(request),
                grant.token_id if grant else "-", request.method, route, status,
                elapsed_ns // 1_000_000,
            )  # fmt: skip

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = limit_key(client_of(request))
        wait = 0 if route_of(request) in OPEN_ROUTES else api.throttle.retry_after(peer)
        if wait:
            api.instruments.throttled.labels("auth").inc()
            return problem(
                429, "too_many_failed_authentications",
                f"too many failed authentications from {peer}; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )  # fmt: skip
        if request.body_exists:
            refused = await _read_body(request, api.limits.body_seconds)
            if refused is not None:
                return refused
        response = await handler(request)
        if response.status == 401:
            api.throttle.failed(peer, route_of(request))
        if response.status == 405 and isinstance(request.match_info, MatchInfoError):
            allowed = getattr(request.match_info.http_exception, "allowed_methods", ())
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    return [account, guard]


async def _read_body(request: web.Request, seconds: int) -> web.Response | None:
    """Read the body now, within ``seconds`` (the handler's own read then finds it read); a
    stalled upload is answered and its connection closed instead of holding a handler."""
    try:
        async with asyncio.timeout(seconds):
            await request.read()
    except TimeoutError:
        response = problem(408, "body_timeout", f"the body did not arrive within {seconds} s")
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        if len(request.match_info.apps) > 1:
            request[BODY_TOO_LARGE] = True
            return None
        kib = request.client_max_size // 1024
        response = problem(413, "too_large", f"the body is over {kib} KiB")
        response.force_close()
        return response
    return None
