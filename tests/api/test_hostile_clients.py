"""The API under slow and hostile clients, on a real server: aiohttp's own refusals in the one
problem+json format, stalled bodies and idle connections closed, connections per address capped,
peers outside the allowlist closed unread, 2,000 wrong tokens throttled and logged twice."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from cards.db import Database
from pbx_engine.allowlist import Allowlist
from pbx_engine.api import server
from pbx_engine.api.client import limit_key
from pbx_engine.api.limits import Limits
from pbx_engine.api.metrics import Instruments
from testbed.postgres import free_port
from tests.api.conftest import start
from tests.api.test_openapi_conformance import documented
from tests.support.api_client import PROBLEM_KEYS, Server

Started = Callable[[Limits], Awaitable[Server]]


@pytest.fixture
async def api_with(db: Database, tmp_path: Path) -> AsyncIterator[Started]:
    """A server with the given limits (one a test)."""
    runners: list[Any] = []

    async def make(limits: Limits) -> Server:
        server, runner = await start(db, tmp_path, [True], limits)
        runners.append(runner)
        return server

    yield make
    for runner in runners:
        await runner.cleanup()


def port_of(api: Server) -> int:
    return int(api.url.rsplit(":", 1)[1])


async def raw(api: Server, data: bytes, *, source: str = "127.0.0.1", wait_s: float = 10) -> bytes:
    """What the server sends back to ``data`` from ``source`` until it closes the connection."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port_of(api), local_addr=(source, 0)
    )
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait_s)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


def split(answer: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "bad_request"),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20_000 + b"\r\n\r\n",
            431,
            "too_long",
        ),
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "too_long"),
    ],
)
async def test_the_protocol_layers_refusals_are_problems_without_a_traceback(
    api: Server, request_bytes: bytes, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await raw(api, request_bytes)
    got, headers, body = split(answer)
    assert (got, body["code"], body["status"]) == (status, code, status)
    assert headers["Content-Type"].startswith("application/problem+json")
    assert set(body) == PROBLEM_KEYS
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    metrics = (await api.call("GET", "/metrics", None))[1]
    assert f'minutecard_api_requests_total{{route="protocol",status="{status}"}} 1.0' in metrics


async def test_a_wrong_method_is_405_with_allow(api: Server) -> None:
    answer = await raw(api, b"DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, headers, body = split(answer)
    assert (status, body["code"]) == (405, "method_not_allowed")
    assert headers["Allow"] == "GET, HEAD"
    path = f"/v1/cards/{api.serial}/topups".encode()
    answer = await raw(api, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert split(answer)[1]["Allow"] == "POST"


async def test_a_stalled_body_is_answered_408_and_its_connection_closed(
    api_with: Started,
) -> None:
    api = await api_with(Limits(body_seconds=1))
    head = (
        f"POST /v1/cards/{api.serial}/topups HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {api.write}\r\nIdempotency-Key: s-1\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    status, _, body = split(await raw(api, head.encode() + b'{"amo'))
    assert (status, body["code"]) == (408, "body_timeout")
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"] == 100_000


async def test_an_idle_or_half_sent_connection_is_closed(api_with: Started) -> None:
    api = await api_with(Limits(idle_seconds=1))
    assert await raw(api, b"") == b""  # never a byte sent
    assert await raw(api, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ") == b""
    kept = await raw(api, b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive, then idle
    assert split(kept.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")[0] == 200


async def test_connections_per_address_are_capped_before_a_byte_is_read(
    api_with: Started, caplog: pytest.LogCaptureFixture
) -> None:
    api = await api_with(Limits(connections_per_address=2))
    held = [await asyncio.open_connection("127.0.0.1", port_of(api)) for _ in range(2)]
    await asyncio.sleep(0)
    assert await raw(api, b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    answer = await raw(
        api,
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        source="127.0.0.2",
    )
    assert split(answer)[0] == 200  # another address is not held to this one's count
    held[0][1].close()
    await held[0][1].wait_closed()
    for _ in range(100):  # the server sees the close a moment later
        answer = await raw(
            api, b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        if answer:
            break
        await asyncio.sleep(0.05)
    assert split(answer)[0] == 200
    held[1][1].close()
    assert "connection from 127.0.0.1 closed unread (too many connections from it)" in caplog.text
    metrics = (await api.call("GET", "/metrics", None))[1]
    assert 'minutecard_api_throttled_total{reason="connections"}' in metrics


async def test_a_peer_outside_the_allowlist_gets_nothing(
    api_with: Started, caplog: pytest.LogCaptureFixture
) -> None:
    api = await api_with(Limits(allow=Allowlist.parse("api.allow", ["127.0.0.1/32"])))
    live = b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert await raw(api, live, source="127.0.0.2") == b""
    assert split(await raw(api, live))[0] == 200
    assert "connection from 127.0.0.2 closed unread (not in [api] allow)" in caplog.text


async def test_2000_wrong_tokens_are_throttled_per_address_and_logged_twice(
    api_with: Started, caplog: pytest.LogCaptureFixture
) -> None:
    api = await api_with(Limits())  # the defaults: 20 failures in 60 s
    caplog.set_level(logging.WARNING, "minutecard.api")
    path = f"{api.url}/v1/cards/{api.serial}"
    answers: list[tuple[int, str | None, str]] = []
    async with aiohttp.ClientSession() as session:

        async def attempt(n: int) -> None:
            headers = {"Authorization": f"Bearer mct_wrong-{n}"}
            async with session.get(path, headers=headers) as resp:
                body = await resp.json(content_type=None)
                answers.append((resp.status, resp.headers.get("Retry-After"), body["code"]))

        for first in range(0, 2000, 50):
            await asyncio.gather(*(attempt(n) for n in range(first, first + 50)))
    statuses = [status for status, _, _ in answers]
    refused = statuses.count(401)  # a failure counts when answered: the first 50 run together
    assert 20 <= refused < 70
    assert statuses.count(429) == 2000 - refused
    for status, retry_after, code in answers:
        if status == 429:
            assert code == "too_many_failed_authentications"
            assert retry_after is not None and 1 <= int(retry_after) <= 60
    warnings = [r.getMessage() for r in caplog.records if r.name == "minutecard.api"]
    assert len(warnings) == 2, warnings
    assert "20 failed authentications from 127.0.0.1" in warnings[1]
    assert (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[0] == 429
    other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=other) as session,
        session.get(path, headers={"Authorization": f"Bearer {api.read}"}) as resp,
    ):
        assert resp.status == 200  # the throttle holds one address, not the API
    metrics = (await api.call("GET", "/metrics", None))[1]
    assert f'minutecard_api_throttled_total{{reason="auth"}} {2000 - refused + 1}.0' in metrics


async def test_behind_a_trusted_proxy_the_throttle_holds_the_client_not_the_proxy(
    api_with: Started,
) -> None:
    """Every request comes from the proxy's one address: 20 wrong tokens from one client behind
    it pause that client, never the shops behind the same proxy. X-Forwarded-For from a peer
    that is not the proxy is not believed."""
    api = await api_with(Limits(trusted_proxies=Allowlist.parse("t", ["127.0.0.1/32"])))
    path = f"{api.url}/v1/cards/{api.serial}"

    async def get(token: str, client: str, session: aiohttp.ClientSession) -> int:
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": f"10.9.9.9, {client}"}
        async with session.get(path, headers=headers) as resp:
            return resp.status

    async with aiohttp.ClientSession() as session:
        for n in range(20):
            assert await get(f"mct_wrong-{n}", "203.0.113.5", session) == 401
        assert await get(api.read, "203.0.113.5", session) == 429
        assert await get(api.read, "203.0.113.6", session) == 200  # another shop, same proxy
    untrusted = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=untrusted) as session:
        for n in range(20):
            assert await get(f"mct_wrong-{n}", f"198.51.100.{n}", session) == 401
        assert await get(api.read, "198.51.100.99", session) == 429  # keyed on 127.0.0.2


@pytest.mark.parametrize(
    ("source", "forwarded", "client"),
    [
        ("127.0.0.1", ["10.9.9.9, 203.0.113.5"], "203.0.113.5"),
        ("127.0.0.1", ["198.51.100.66", "203.0.113.7"], "203.0.113.7"),  # the proxy's own line
        ("127.0.0.1", ["2001:DB8:0::1"], "2001:db8::1"),
        ("127.0.0.1", ["::ffff:203.0.113.9"], "203.0.113.9"),  # one client, one name
        ("127.0.0.1", ["fe80::1%eth0"], "fe80::1"),
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", [""], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.5, "], "127.0.0.1"),
        ("127.0.0.1", ["not-an-address"], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.5" + " " * 60 + "x"], "127.0.0.1"),
        ("127.0.0.1", ["1" * 5_000], "127.0.0.1"),
        ("127.0.0.2", ["203.0.113.5"], "127.0.0.2"),
    ],
)
async def test_the_client_is_the_proxys_last_forwarded_address_or_else_the_peer(
    api_with: Started,
    caplog: pytest.LogCaptureFixture,
    source: str,
    forwarded: list[str],
    client: str,
) -> None:
    """What the access log, the throttle and the pages key on: from the trusted proxy the last
    entry of all its X-Forwarded-For lines, if that is an address; else, and from any other
    peer, the peer."""
    api = await api_with(Limits(trusted_proxies=Allowlist.parse("t", ["127.0.0.1/32"])))
    caplog.set_level(logging.INFO, "minutecard.api.access")
    headers = [("X-Forwarded-For", line) for line in forwarded]  # one header line each
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"{api.url}/health", headers=headers) as resp,
    ):
        assert resp.status == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "minutecard.api.access"]
    assert line.split()[0] == client


def test_a_limit_counts_an_ipv6_client_by_its_64_and_others_by_their_address() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9")
    assert limit_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("203.0.113.5") == "203.0.113.5"
    assert limit_key("unknown") == "unknown"


async def test_rotating_ipv6_addresses_inside_one_64_does_not_escape_the_throttle(
    api_with: Started,
) -> None:
    api = await api_with(Limits(trusted_proxies=Allowlist.parse("t", ["127.0.0.1/32"])))
    async with aiohttp.ClientSession() as session:

        async def get(token: str, client: str) -> int:
            headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": client}
            async with session.get(f"{api.url}/v1/cards/{api.serial}", headers=headers) as r:
                return r.status

        for n in range(20):
            assert await get(f"mct_wrong-{n}", f"2001:db8:7:7::{n + 1:x}") == 401
        assert await get(api.read, "2001:db8:7:7:ffff::1") == 429
        assert await get(api.read, "2001:db8:7:8::1") == 200  # the next /64 is someone else


async def test_one_access_log_line_a_request_names_the_token_never_its_secrets(
    api: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "minutecard.api.access")
    await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 15 * 10_000},
        **{"Idempotency-Key": "log-1"},
    )  # fmt: skip
    await api.call("GET", "/v1/calls?caller=030123456", api.read)
    await api.call("GET", f"/v1/cards/{api.serial}", "mct_wrong")
    lines = [r.getMessage() for r in caplog.records if r.name == "minutecard.api.access"]
    assert len(lines) == 3
    assert lines[0].startswith("127.0.0.1 token=1 POST /v1/cards/{serial}/topups 201 ")
    assert lines[1].startswith("127.0.0.1 token=2 GET /v1/calls 200 ")
    assert lines[2].startswith("127.0.0.1 token=- GET /v1/cards/{serial} 401 ")
    assert all(line.endswith("ms") for line in lines)
    for secret in (api.write, api.read, "mct_wrong", api.serial, "030123456", api.pin):
        assert secret not in caplog.text


async def test_a_handlers_crash_is_a_500_problem_logged_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crash(_request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application()
    app.router.add_get("/crash", crash)
    instruments = Instruments(CollectorRegistry())
    port = free_port()
    runner = await server.serve(app, Limits(), instruments, "127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/crash") as resp,
        ):
            status, kind, body = resp.status, resp.content_type, await resp.json(content_type=None)
    finally:
        await runner.cleanup()
    assert (status, kind, body["code"]) == (500, "application/problem+json", "internal")
    assert "a bug" not in body["detail"]
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.getMessage() == "API: GET /crash failed: RuntimeError('a bug')"
    assert line.exc_info is None


async def test_a_thousand_deep_amount_is_a_400_problem_never_a_500(
    api: Server, caplog: pytest.LogCaptureFixture
) -> None:
    deep = b'{"amount": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    status, body = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, deep, **{"Idempotency-Key": "d-1"}
    )
    assert (status, body["code"]) == (400, "bad_json")
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    metrics = (await api.call("GET", "/metrics", None))[1]
    assert (
        'minutecard_api_requests_total{route="/v1/cards/{serial}/topups",status="400"}' in metrics
    )


async def test_every_route_a_held_address_reaches_documents_its_429(api_with: Started) -> None:
    """The throttle answers 429 on every route but the open ones (health, metrics, the
    document): each of those routes says so in the OpenAPI document, the new ones too."""
    api = await api_with(Limits(auth_failures=1))
    assert (await api.call("GET", "/v1/orders", "wrong-token"))[0] == 401
    asked = [
        ("GET", "/v1/cards", "/v1/cards"),
        ("GET", "/v1/orders", "/v1/orders"),
        ("GET", "/v1/orders/MC-2222-2222", "/v1/orders/{reference}"),
        ("POST", f"/v1/cards/{api.serial}/refunds", "/v1/cards/{serial}/refunds"),
        ("POST", f"/v1/cards/{api.serial}/block", "/v1/cards/{serial}/block"),
        ("POST", f"/v1/cards/{api.serial}/unblock", "/v1/cards/{serial}/unblock"),
    ]
    for method, url, path in asked:
        status, body = await api.call(method, url, api.write, {}, **{"Idempotency-Key": "k"})
        assert (status, body["code"]) == (429, "too_many_failed_authentications"), url
        documented(path, method.lower(), 429)
    for method, _, path in asked[3:]:  # a stalled body is 408 (tested above)
        documented(path, method.lower(), 408)
