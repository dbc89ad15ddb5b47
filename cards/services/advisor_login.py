"""An advisor logs in or out by calling the project's login number and typing the login PIN
(issue 23). Wrong PINs count as PIN failures of the calling line, as on a card number: the
same lockout guards both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cards.clock import utcnow
from cards.db import Database
from cards.models import Advisor, PinFailure
from cards.phone import to_e164
from cards.pins import check_secret
from cards.services.activation import is_locked
from cards.services.advisors import pin_hash
from cards.services.operator_log import note
from cards.services.projects import find_project, settings_of


async def toggle_by_pin(
    db: Database,
    project_id: int,
    line: str,
    pin: str,
    *,
    secret: bytes,
    now: datetime | None = None,
) -> str:
    """``logged_in`` or ``logged_out`` (the advisor whose PIN this is, switched), ``invalid``
    or ``locked`` (too many wrong PINs from this line)."""
    moment = now or utcnow()
    line = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_id)
        if await is_locked(session, project, line, None, moment):
            session.add(PinFailure(project_id=project.id, line=line, at=moment, locked=True))
            return "locked"
        check_secret(project, secret)
        advisor = None
        if pin.isascii() and pin.isdigit() and len(pin) == settings_of(project).pin_length:
            advisor = await session.scalar(
                select(Advisor).where(
                    Advisor.project_id == project.id,
                    Advisor.pin_hash == pin_hash(secret, project.id, pin),
                )
            )
        if advisor is None:
            session.add(PinFailure(project_id=project.id, line=line, at=moment))
            return "invalid"
        advisor.logged_in = not advisor.logged_in
        word = "in" if advisor.logged_in else "out"
        await note(
            session, actor=f"phone {line}", action=f"advisor_log{word}", project_id=project.id,
            subject=f"advisor {advisor.name} logged {word} by the login number", now=moment,
        )  # fmt: skip
        return f"logged_{word}"
