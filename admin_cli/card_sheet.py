"""Printable card sheets: a PDF of A4 pages, ten cards each (two columns of five, credit-card
size, dashed cut lines), every card with project, value, serial, PIN and the number to call."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

PER_PAGE = 10


@dataclass(frozen=True)
class PrintedCard:
    serial: str
    pin: str
    value: str


def render(project: str, number: str, cards: Sequence[PrintedCard]) -> bytes:
    # reportlab costs ~150 ms to import; only `cards create --pdf` needs it.
    from reportlab.lib.pagesizes import A4  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.pdfgen.canvas import Canvas  # noqa: PLC0415

    out = io.BytesIO()
    sheet = Canvas(out, pagesize=A4, pageCompression=1)
    sheet.setTitle(f"{project}: {len(cards)} cards")
    width, height = A4
    card_w, card_h = 85.6 * mm, 54 * mm
    left = (width - 2 * card_w) / 2
    top = height - (height - 5 * card_h) / 2
    for index, card in enumerate(cards):
        slot = index % PER_PAGE
        if slot == 0 and index:
            sheet.showPage()
        x = left + (slot % 2) * card_w
        y = top - (slot // 2 + 1) * card_h
        sheet.setDash(3, 3)
        sheet.setLineWidth(0.4)
        sheet.rect(x, y, card_w, card_h)
        sheet.setDash()
        pad = 6 * mm
        sheet.setFont("Helvetica-Bold", 13)
        sheet.drawString(x + pad, y + card_h - pad - 4 * mm, project[:34])
        sheet.setFont("Helvetica", 10)
        sheet.drawString(x + pad, y + card_h - pad - 11 * mm, f"Guthaben / credit: {card.value}")
        sheet.drawString(x + pad, y + card_h - pad - 17 * mm, f"Karte / card: {card.serial}")
        sheet.setFont("Helvetica-Bold", 12)
        sheet.drawString(x + pad, y + card_h - pad - 24 * mm, f"PIN: {card.pin}")
        sheet.setFont("Helvetica", 8.5)
        sheet.drawString(x + pad, y + pad + 5 * mm, f"Einmal freischalten: {number} anrufen,")
        sheet.drawString(
            x + pad, y + pad + 1.5 * mm, "PIN eingeben. Activate once: call, type PIN."
        )
    sheet.showPage()
    sheet.save()
    return out.getvalue()
