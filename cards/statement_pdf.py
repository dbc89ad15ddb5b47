"""A monthly statement as a PDF (a customer's, a caller's or an advisor's): header, the month's
lines as a table, the totals."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

STATEMENT_HEADER = ("date", "card", "kind", "amount", "balance", "detail")


def render(
    title: str,
    lines: Sequence[Sequence[str]],
    totals: Mapping[str, str],
    header: Sequence[str] = STATEMENT_HEADER,
) -> bytes:
    # reportlab costs ~150 ms to import; only `statement --pdf` needs it.
    from reportlab.lib import colors  # noqa: PLC0415
    from reportlab.lib.pagesizes import A4  # noqa: PLC0415
    from reportlab.lib.styles import getSampleStyleSheet  # noqa: PLC0415
    from reportlab.lib.units import mm  # noqa: PLC0415
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table  # noqa: PLC0415

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            title=title)  # fmt: skip
    styles = getSampleStyleSheet()
    body = Table([list(header), *[list(row) for row in lines]], repeatRows=1)
    body.setStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (3, 0), (4, -1), "RIGHT"),
    ])  # fmt: skip
    summary = Table([[name, value] for name, value in totals.items()])
    summary.setStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
    ])  # fmt: skip
    story = [Paragraph(title, styles["Heading2"]), body, Spacer(1, 8 * mm), summary]
    doc.build(story)
    return out.getvalue()
