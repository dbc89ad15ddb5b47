"""The top-up flow's lookups over HTTP: a line alone never tells whether it holds a card."""

from __future__ import annotations

import re
import time

from tests.web.conftest import CSRF, LINE, LINE_NATIONAL, Pages, client, form_token

MAIN = re.compile(r"<main>.*</main>", re.S)


async def _lookup(pages: Pages, line: str, serial: str) -> tuple[int, str, int, str]:
    """Status, the page's main part, the whole milliseconds it took, and where it sends on."""
    async with client() as session:
        token = await form_token(session, f"{pages.url}/pay/astro")
        form = {"csrf": token, "line": line, "serial": serial}
        started = time.monotonic_ns()
        async with session.post(f"{pages.url}/pay/astro", data=form, allow_redirects=False) as r:
            page = await r.text()
            took = (time.monotonic_ns() - started) // 1_000_000
            main = MAIN.search(page)
            shown = CSRF.sub("", main.group(0) if main else page)  # each client has its own
            return r.status, shown, took, r.headers.get("Location", "")


async def test_an_unknown_line_and_a_wrong_serial_get_the_same_answer(pages: Pages) -> None:
    wrong_digits = f"{(int(pages.serial[-4:]) + 1) % 10_000:04d}"
    unknown = await _lookup(pages, "+4930123456", pages.serial[-4:])
    wrong_serial = await _lookup(pages, LINE, wrong_digits)
    wrong_whole = await _lookup(pages, LINE_NATIONAL, "1" + pages.serial)
    assert unknown[:2] == wrong_serial[:2] == wrong_whole[:2]
    assert unknown[0] == 200 and "keine aufladbare Karte" in unknown[1]
    floor = pages.site.floor_ms
    # the same time class: none answers before the floor every lookup waits for
    assert min(unknown[2], wrong_serial[2], wrong_whole[2]) >= floor
    found = await _lookup(pages, LINE_NATIONAL, pages.serial[-4:])
    assert found[0] == 303 and found[3].startswith("/pay/astro/card?flow=")
    assert found[2] >= floor and pages.serial not in found[3] and "171" not in found[3]


async def test_the_whole_serial_and_the_international_form_find_the_card(pages: Pages) -> None:
    status, _, _, location = await _lookup(pages, "0049 171 1234567", pages.serial)
    assert status == 303 and "/card?flow=" in location
