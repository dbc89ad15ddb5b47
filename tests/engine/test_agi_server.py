"""The FastAGI connection handler: a bounded, timed header reader (fuzzed), and peers that close
early, send garbage or flood headers neither freeze the engine nor reach a route."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panoramisk.fast_agi import Request

from pbx_engine.agi import app as agi
from pbx_engine.agi.reader import BadRequest, read_headers
from pbx_engine.allowlist import Allowlist
from testbed.engine_world import World, eventually
from testbed.flows import activate, connect
from testbed.postgres import free_port


def fed(data: bytes, *, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def test_a_header_block_is_read_up_to_the_blank_line() -> None:
    headers = await read_headers(
        fed(b"agi_network_script: settle\nagi_uniqueid: 17.1\nnot_agi: x\n\nSET VARIABLE")
    )
    assert headers == {"agi_network_script": "settle", "agi_uniqueid": "17.1"}


@pytest.mark.parametrize(
    ("data", "eof", "says"),
    [
        (b"", True, "closed before the end"),
        (b"agi_network_script: settle\n", True, "closed before the end"),
        (b"agi_x: " + b"y" * 9000 + b"\n\n", True, "longer than"),
        (b"agi_x: y\n" * 2000, False, "longer than"),
        (b"agi_x: \xff\xfe\n\n", True, "not UTF-8"),
        (b"agi_network_script: settle\n", False, "within"),
    ],
)
async def test_bad_header_blocks_are_refused(data: bytes, eof: bool, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        await read_headers(fed(data, eof=eof), timeout_s=0.05)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12_000))
async def test_any_bytes_give_headers_or_a_refusal_never_a_hang(data: bytes) -> None:
    try:
        headers = await asyncio.wait_for(read_headers(fed(data), timeout_s=0.05), 1.0)
    except BadRequest:
        return
    assert all(name.startswith("agi_") for name in headers)
    assert sum(len(k) + len(v) for k, v in headers.items()) <= 8 * 1024


async def test_abusive_peers_do_not_stop_a_live_ari_call(world: World, tmp_path: Path) -> None:
    """While sockets open and close early, send garbage and flood headers, the engine still
    connects and ends a call on the fake ARI; no route ever runs for them."""
    ran: list[str] = []

    async def route(request: object) -> None:
        ran.append("route")

    port = free_port()
    server = await agi.serve(agi.AgiApp({"settle": route}), "127.0.0.1", port)

    async def abuse(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if i % 3 == 0:
            writer.close()  # early EOF: panoramisk's own loop spins here forever
        elif i % 3 == 1:
            writer.write(b"\x00\xff garbage without a newline")
            writer.write_eof()
        else:
            writer.write(b"agi_flood: " + b"x" * 20_000 + b"\n" * 3)
            writer.write_eof()
        await reader.read()
        writer.close()

    try:
        await activate(world)
        abusers = asyncio.gather(*(abuse(i) for i in range(60)))
        answered = await connect(world)
        await world.advance(answered + 600_000 - world.clock.now)
        await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
        assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 600_000
        await asyncio.wait_for(abusers, 10)
    finally:
        server.close()
    assert ran == []


async def test_a_peer_outside_agi_allow_is_closed_unread(caplog: pytest.LogCaptureFixture) -> None:
    """FastAGI has no authentication: 127.0.0.2 is outside an allowlist of 127.0.0.1 and gets
    nothing, not even the route's first command; 127.0.0.1 is served."""
    ran: list[str] = []

    async def route(request: Request) -> None:
        ran.append(request.headers["agi_uniqueid"])
        request.writer.write(b"SET VARIABLE MC_RESULT ok\n")

    port = free_port()
    allow = Allowlist.parse("agi.allow", ["127.0.0.1/32"])
    server = await agi.serve(agi.AgiApp({"settle": route}, allow), "127.0.0.1", port)
    request = b"agi_network_script: settle\nagi_uniqueid: %s\n\n"

    async def from_(source: str, uniqueid: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        try:
            writer.write(request % uniqueid)
            return await asyncio.wait_for(reader.read(), 10)
        except ConnectionResetError:
            return b""
        finally:
            writer.close()

    try:
        assert await from_("127.0.0.2", b"2.1") == b""
        assert await from_("127.0.0.1", b"1.1") == b"SET VARIABLE MC_RESULT ok\n"
    finally:
        server.close()
    assert ran == ["1.1"]
    assert "closed unread: not in [agi] allow" in caplog.text
