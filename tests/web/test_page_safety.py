"""The pages' defences over HTTP: headers, CSRF, rate limits, languages, and a clear page for any
bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from cards.db import Database
from cards.errors import InvalidInput
from cards.models import PinFailure
from cards.services import projects
from pbx_engine.allowlist import Allowlist
from pbx_engine.config import load
from pbx_engine.web.guard import set_cookie
from pbx_engine.web.limits import RateLimit
from pbx_engine.web.settings import web_settings
from tests.web.conftest import LINE, LINE_NATIONAL, Pages, client, form_token, start_pages


async def test_headers_forbid_framing_by_default_and_name_the_allowed_sites(
    db: Database, pages: Pages, tmp_path: Path
) -> None:
    async with client() as session, session.get(f"{pages.url}/pay/astro") as resp:
        assert resp.status == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/pay" in cookie
        assert "<script" not in await resp.text()


def test_framing_sites_are_origins_and_a_framed_cookie_is_samesite_none() -> None:
    settings = web_settings({"frame_ancestors": ["https://shop.example", "https://b.example:8443/"]},
                            b"p" * 20)  # fmt: skip
    assert settings.frame_ancestors == ("https://shop.example", "https://b.example:8443")
    for bad in ("shop.example", "https://shop.example/pay", "https://a.example 'unsafe-inline'",
                "javascript:alert(1)", "*"):  # fmt: skip
        with pytest.raises(InvalidInput, match="frame_ancestors"):
            web_settings({"frame_ancestors": [bad]}, b"p" * 20)
    from_env = web_settings({"frame_ancestors": "https://a.example, https://b.example",
                             "secure_cookies": "false"}, b"p" * 20)  # fmt: skip
    assert from_env.frame_ancestors == ("https://a.example", "https://b.example")
    assert from_env.secure_cookies is False
    assert web_settings({}, b"p" * 20).secret != web_settings({}, b"q" * 20).secret


async def test_a_framed_page_lists_its_sites_and_drops_x_frame_options(
    db: Database, tmp_path: Path
) -> None:
    found, runner = await start_pages(db, tmp_path, ("https://shop.example",))
    try:
        async with client() as session, session.get(f"{found.url}/pay/astro") as resp:
            csp = resp.headers["Content-Security-Policy"]
            assert "frame-ancestors https://shop.example;" in csp
            assert "X-Frame-Options" not in resp.headers
            # Secure is off for plain http, so SameSite=None (which needs Secure) is not used
            assert "SameSite=Lax" in resp.headers["Set-Cookie"]
    finally:
        await runner.cleanup()


async def test_a_forged_post_is_refused_and_counts_nothing(db: Database, pages: Pages) -> None:
    async with client() as session:
        token = await form_token(session, f"{pages.url}/pay/astro/account")
        forged = [
            {"line": LINE, "pin": pages.pin},  # no token
            {"line": LINE, "pin": pages.pin, "csrf": "0" * 64},  # a made-up one
        ]
        for form in forged:
            async with session.post(f"{pages.url}/pay/astro/account", data=form) as resp:
                assert resp.status == 403
                assert "nicht von dieser Seite" in await resp.text()
    async with client() as other:  # the right token with another browser's cookie
        await form_token(other, f"{pages.url}/pay/astro/account")
        form = {"line": LINE, "pin": pages.pin, "csrf": token}
        async with other.post(f"{pages.url}/pay/astro/account", data=form) as resp:
            assert resp.status == 403
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(PinFailure)) == 0


async def test_lookups_are_limited_per_client_and_per_line_with_retry_after(pages: Pages) -> None:
    pages.site.per_line = RateLimit(2, 60_000)
    async with client() as session:
        token = await form_token(session, f"{pages.url}/pay/astro/account")
        statuses = []
        for _ in range(3):
            form = {"csrf": token, "line": LINE, "pin": "00000000"}
            async with session.post(f"{pages.url}/pay/astro/account", data=form) as resp:
                statuses.append(resp.status)
                retry = resp.headers.get("Retry-After")
                page = await resp.text()
        assert statuses == [200, 200, 429]
        assert retry is not None and 1 <= int(retry) <= 60 and "Zu viele Anfragen" in page
        pages.site.per_client = RateLimit(0, 60_000)
        form = {"csrf": token, "line": "+4930123456", "pin": "00000000"}
        async with session.post(f"{pages.url}/pay/astro/account", data=form) as resp:
            assert resp.status == 429


async def test_behind_the_trusted_proxy_the_pages_and_the_api_limit_the_client_not_the_proxy(
    db: Database, tmp_path: Path
) -> None:
    """One setting, [api] trusted_proxies, for the whole listener: through the proxy each
    forwarded client has its own lookup bucket and its own failed-authentication count; a peer
    that is not the proxy is keyed on its own address whatever X-Forwarded-For it sends."""
    found, runner = await start_pages(
        db, tmp_path, trusted_proxies=Allowlist.parse("t", ["127.0.0.1/32"])
    )
    found.site.per_client = RateLimit(1, 60_000)
    found.site.floor_ms = 0  # the floor is tested above; here only the buckets count
    page, card = f"{found.url}/pay/astro", f"{found.url}/v1/cards/{found.serial}"

    async def lookup(session: aiohttp.ClientSession, token: str, client: str) -> int:
        form = {"csrf": token, "line": "0171 7654321", "serial": "NOSUCH99"}
        headers = {"X-Forwarded-For": f"10.9.9.9, {client}"}  # the first one the client's own
        async with session.post(page, data=form, headers=headers) as resp:
            return resp.status

    async def wrong_token(session: aiohttp.ClientSession, client: str) -> int:
        headers = {"Authorization": "Bearer mct_wrong", "X-Forwarded-For": client}
        async with session.get(card, headers=headers) as resp:
            return resp.status

    try:
        async with client() as proxy:
            token = await form_token(proxy, page)
            assert [await lookup(proxy, token, c) for c in ("203.0.113.5",) * 2] == [200, 429]
            assert await lookup(proxy, token, "203.0.113.6") == 200  # another caller, same proxy
            assert {await wrong_token(proxy, "203.0.113.5") for _ in range(20)} == {401}
            assert await wrong_token(proxy, "203.0.113.5") == 429
            assert await wrong_token(proxy, "203.0.113.6") == 401  # another shop, same proxy
        other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(connector=other, cookie_jar=jar) as stranger:
            token = await form_token(stranger, page)
            assert [await lookup(stranger, token, f"198.51.100.{n}") for n in (1, 2)] == [200, 429]
            assert {await wrong_token(stranger, f"198.51.100.{n}") for n in range(20)} == {401}
            assert await wrong_token(stranger, "198.51.100.99") == 429  # keyed on 127.0.0.2
    finally:
        await runner.cleanup()


def test_a_rate_limit_forgets_the_oldest_key_beyond_its_size() -> None:
    now = [0]
    limit = RateLimit(1, 1_000, max_keys=2, clock=lambda: now[0])
    assert [limit.hit(k) for k in ("a", "b", "a")] == [None, None, 1]
    limit.hit("c")  # "b" is the oldest now and is dropped
    assert set(limit.hits) == {"a", "c"}
    now[0] = 1_000
    assert limit.hit("a") is None  # the window has passed


async def test_language_follows_the_browser_and_the_switch_is_remembered(pages: Pages) -> None:
    async with client() as session:
        browser_says = {"Accept-Language": "fr, en;q=0.8, de;q=0.5"}
        async with session.get(f"{pages.url}/pay/astro", headers=browser_says) as resp:
            assert '<html lang="en">' in await resp.text()
        async with session.get(f"{pages.url}/pay/astro?lang=de",
                               headers={"Accept-Language": "en"}) as resp:  # fmt: skip
            assert '<html lang="de">' in await resp.text()
        async with session.get(f"{pages.url}/pay/astro",
                               headers={"Accept-Language": "en"}) as resp:  # fmt: skip
            page = await resp.text()
            assert '<html lang="de">' in page and 'href="/pay/astro?lang=en"' in page


@pytest.mark.parametrize(
    ("method", "path", "form", "status", "text"),
    [
        ("GET", "/pay/nowhere", None, 404, "Diese Seite gibt es nicht"),
        ("GET", "/pay/astro/account?month=2026-13", None, 200, "Anmelden"),
        ("GET", "/pay/astro/card?flow=made-up", None, 410, "abgelaufen"),
        ("GET", "/pay/astro/orders/MC-XXXX-XXXX", None, 404, "Diesen Auftrag gibt es nicht"),
        ("POST", "/pay/astro/account", {"line": "x" * 5000}, 403, "Formular"),
        ("POST", "/pay/astro/account", {"line": "x" * 100_000}, 413, "verstehen wir nicht"),
        ("DELETE", "/pay/astro", None, 405, "verstehen wir nicht"),
    ],
)
async def test_bad_input_gets_a_clear_page(
    pages: Pages, method: str, path: str, form: object, status: int, text: str
) -> None:
    async with client() as session, session.request(method, pages.url + path, data=form) as resp:
        page = await resp.text()
        assert (resp.status, resp.content_type) == (status, "text/html")
        assert text in page and "Traceback" not in page


async def test_a_line_that_is_no_number_is_said_so(pages: Pages) -> None:
    async with client() as session:
        token = await form_token(session, f"{pages.url}/pay/astro/account")
        form = {"csrf": token, "line": "call me maybe", "pin": "1234"}
        async with session.post(f"{pages.url}/pay/astro/account", data=form) as resp:
            assert "keine gültige Rufnummer" in await resp.text()


async def test_no_line_pin_or_serial_reaches_the_log(
    pages: Pages, caplog: pytest.LogCaptureFixture
) -> None:
    # minutecard's own loggers at their most talkative; the libraries at cardengine's INFO
    # (aiosqlite's DEBUG prints every statement's parameters, the engine's calls' lines too)
    caplog.set_level(logging.INFO)
    for name in ("minutecard", "pbx_engine", "cards"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with client() as session:
        token = await form_token(session, f"{pages.url}/pay/astro")
        forms = [
            {"line": LINE_NATIONAL, "serial": pages.serial[-4:]},
            {"line": LINE, "serial": "0000"},
            {"line": "not a number", "serial": "x"},
        ]
        for form in forms:
            async with session.post(f"{pages.url}/pay/astro", data={"csrf": token, **form}):
                pass
        token = await form_token(session, f"{pages.url}/pay/astro/account")
        for pin in (pages.pin, "12345678"):
            form = {"csrf": token, "line": LINE_NATIONAL, "pin": pin}
            async with session.post(f"{pages.url}/pay/astro/account", data=form):
                pass
    logged = caplog.text
    for secret in (LINE, "1711234567", pages.pin, pages.serial, "12345678", "not a number"):
        assert secret not in logged


async def test_a_minutes_project_sells_nothing_online(db: Database, pages: Pages) -> None:
    await projects.create_project(db, "talk", "minutes")
    async with client() as session, session.get(f"{pages.url}/pay/talk") as resp:
        assert resp.status == 404 and "nicht online bezahlt" in await resp.text()


def test_the_web_section_loads_from_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", "web-config-secret-0123456789")
    monkeypatch.setenv("MINUTECARD_ARI_PASSWORD", "pw")
    path = tmp_path / "engine.toml"
    path.write_text('[web]\nframe_ancestors = ["https://shop.example"]\nsupport = "0800 1"\n')
    monkeypatch.setenv("MINUTECARD_WEB_SECURE_COOKIES", "false")
    web = load(path).web
    assert web is not None
    assert (web.frame_ancestors, web.support, web.secure_cookies) == (
        ("https://shop.example",),
        "0800 1",
        False,
    )
    path.write_text("[web]\nframe_ancestor = []\n")
    with pytest.raises(InvalidInput, match="unknown key 'frame_ancestor' in \\[web\\]"):
        load(path)


def test_a_framed_page_over_tls_gets_partitioned_samesite_none_cookies() -> None:
    framed = web_settings({"frame_ancestors": ["https://shop.example"]}, b"p" * 20)
    response = web.Response()
    set_cookie(response, framed, "mc_csrf", "nonce")
    cookie = response.headers["Set-Cookie"]
    assert all(part in cookie for part in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"))
    response = web.Response()
    set_cookie(response, web_settings({}, b"p" * 20), "mc_csrf", "nonce")
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    assert "Partitioned" not in response.headers["Set-Cookie"]
