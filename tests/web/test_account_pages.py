"""The caller's own view over HTTP: sign in with line and PIN, the month's calls, the statement
PDF, sign out; wrong PINs count like the phone's and lock the line."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import aiohttp
from sqlalchemy import func, select

from cards.clock import utcnow
from cards.db import Database
from cards.models import PinFailure
from tests.support.settlements import bill_call
from tests.web.conftest import LINE, LINE_NATIONAL, Pages, client, form_token

ADVISOR = "+498912345671"


async def _sign_in(session: aiohttp.ClientSession, pages: Pages, line: str, pin: str) -> str:
    token = await form_token(session, f"{pages.url}/pay/astro/account")
    form = {"csrf": token, "line": line, "pin": pin}
    async with session.post(f"{pages.url}/pay/astro/account", data=form) as resp:
        assert resp.status == 200
        return (await resp.text()).replace("\u00a0", " ")  # amounts keep "€" by a no-break space


async def test_a_caller_sees_balance_calls_and_the_statement_then_signs_out(
    db: Database, pages: Pages, tmp_path
) -> None:
    await bill_call(db, pages.serial, "web-1", 125, dialed=ADVISOR, caller=LINE,
                    start=utcnow() - timedelta(minutes=10))  # fmt: skip
    async with client() as session:
        page = await _sign_in(session, pages, LINE_NATIONAL, pages.pin)
        # 125 s on 60/1 at 1.99 €/min: 60 s + 65 s billed = 4.1459 € (rounded up), of 10,00 €
        assert "Karte …" + pages.serial[-4:] in page
        assert '<dd id="balance">5,8541 €</dd>' in page
        assert ADVISOR in page and ">125<" in page and "4,1459 €" in page
        assert '<dd id="minutes">2</dd>' in page  # 5.8541 € buys 60 + 116 s at 1.99 €/min
        async with session.get(f"{pages.url}/pay/astro/account/statement.pdf") as resp:
            assert resp.status == 200 and resp.content_type == "application/pdf"
            pdf = tmp_path / "s.pdf"
            pdf.write_bytes(await resp.read())
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout.replace("\u00a0", " ")  # fmt: skip
        assert "-4,1459 €" in text and "5,8541 €" in text
        token = await form_token(session, f"{pages.url}/pay/astro/account")
        async with session.post(
            f"{pages.url}/pay/astro/account/logout", data={"csrf": token}
        ) as resp:
            page = await resp.text()
        assert 'name="pin"' in page and "balance" not in page
        async with session.get(f"{pages.url}/pay/astro/account/statement.pdf") as resp:
            assert resp.content_type == "text/html"


async def test_wrong_pins_count_per_line_and_lock_it_like_the_phone(
    db: Database, pages: Pages
) -> None:
    async with client() as session:
        for _ in range(3):  # lockout_failures = 3
            page = await _sign_in(session, pages, LINE, "00000000")
            assert "PIN stimmen nicht" in page
        page = await _sign_in(session, pages, LINE, pages.pin)
        assert "Zu viele falsche Versuche" in page and 'id="balance"' not in page
    async with db.read() as session:
        failures = await session.scalar(select(func.count()).select_from(PinFailure))
        locked = await session.scalar(
            select(func.count()).select_from(PinFailure).where(PinFailure.locked.is_(True))
        )
    assert (failures, locked) == (4, 1)


async def test_a_right_pin_from_another_line_does_not_sign_in(pages: Pages) -> None:
    async with client() as session:
        page = await _sign_in(session, pages, "+4930123456", pages.pin)
    assert "PIN stimmen nicht" in page and 'id="balance"' not in page
