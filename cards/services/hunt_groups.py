"""Which advisors an advisor number rings, in which order and how long (issue 23); a number
without a group rings its own dial string, as before (a group of one)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.db import Database
from cards.domain import NumberRole
from cards.errors import InvalidInput, NotFound
from cards.hunt import Strategy
from cards.models import Advisor, HuntGroup, HuntMember, Number, Project
from cards.services.advisors import find_advisor
from cards.services.operator_log import note
from cards.services.projects import find_number

DEFAULT_RING_S = 20
DEFAULT_OVERALL_S = 120
DEFAULT_WRAPUP_S = 0
MAX_OVERALL_S = 600


@dataclass(frozen=True)
class Timing:
    ring_timeout_s: int = DEFAULT_RING_S
    """How long one attempt rings before the next advisor is tried."""
    overall_timeout_s: int = DEFAULT_OVERALL_S
    """How long the whole hunt may take before the caller hears that nobody is free."""
    wrapup_s: int = DEFAULT_WRAPUP_S
    """After an answered call, how long before the advisor is offered the next."""
    extensions: bool = False
    """The caller may choose an advisor by extension ("Beraterdurchwahl") and #."""

    def checked(self) -> Timing:
        validate.whole(self.ring_timeout_s, "ring timeout", low=5, high=MAX_OVERALL_S)
        validate.whole(
            self.overall_timeout_s, "overall timeout", low=self.ring_timeout_s, high=MAX_OVERALL_S
        )
        validate.whole(self.wrapup_s, "wrap-up", high=3600)
        return self


@dataclass(frozen=True)
class GroupView:
    number: str
    strategy: Strategy
    timing: Timing
    advisors: tuple[str, ...]


async def _advisor_number(session: AsyncSession, number: str) -> tuple[Number, Project]:
    row = await find_number(session, number)
    if row.role != NumberRole.ADVISOR:
        raise InvalidInput(f"{row.e164} is a card number: only an advisor number rings advisors")
    project = await session.get_one(Project, row.project_id)
    return row, project


async def set_group(
    db: Database,
    number: str,
    names: list[str],
    strategy: str,
    timing: Timing,
    *,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> GroupView:
    """Replace the number's group: these advisors in this order, this strategy and timing."""
    try:
        chosen = Strategy(strategy)
    except ValueError as exc:
        raise InvalidInput(f"strategy must be one of {', '.join(Strategy)}") from exc
    timing.checked()
    if not names or len(set(names)) != len(names):
        raise InvalidInput("name each advisor of the group once, in the order to ring them")
    async with db.transaction() as session:
        row, project = await _advisor_number(session, number)
        members = [await find_advisor(session, project, name) for name in names]
        group = await session.scalar(select(HuntGroup).where(HuntGroup.number_id == row.id))
        if group is None:
            group = HuntGroup(number_id=row.id)
            session.add(group)
        else:
            await session.execute(delete(HuntMember).where(HuntMember.group_id == group.id))
        group.strategy = chosen.value
        group.ring_timeout_s = timing.ring_timeout_s
        group.overall_timeout_s = timing.overall_timeout_s
        group.wrapup_s = timing.wrapup_s
        group.extensions = timing.extensions
        await session.flush()
        session.add_all(
            HuntMember(group_id=group.id, advisor_id=a.id, position=i)
            for i, a in enumerate(members)
        )
        view = GroupView(row.e164, chosen, timing, tuple(a.name for a in members))
        await note(
            session, actor=actor, action="hunt_group", project_id=project.id,
            subject=describe(view), reason=reason,
        )  # fmt: skip
        return view


def describe(view: GroupView) -> str:
    t = view.timing
    return (
        f"{view.number} rings {', '.join(view.advisors)} ({view.strategy}, ring "
        f"{t.ring_timeout_s} s, overall {t.overall_timeout_s} s, wrap-up {t.wrapup_s} s"
        f"{', extensions' if t.extensions else ''})"
    )


async def get_group(db: Database, number: str) -> GroupView:
    async with db.read() as session:
        row, _ = await _advisor_number(session, number)
        group = await session.scalar(select(HuntGroup).where(HuntGroup.number_id == row.id))
        if group is None:
            raise NotFound(f"{row.e164} has no group: it rings {row.destination}")
        names = await session.scalars(
            select(Advisor.name)
            .join(HuntMember, HuntMember.advisor_id == Advisor.id)
            .where(HuntMember.group_id == group.id)
            .order_by(HuntMember.position)
        )
        timing = Timing(
            group.ring_timeout_s, group.overall_timeout_s, group.wrapup_s, group.extensions
        )
        return GroupView(row.e164, Strategy(group.strategy), timing, tuple(names))


async def clear_group(
    db: Database, number: str, *, actor: str = "cardadmin", reason: str | None = None
) -> str:
    """The number rings its own dial string again."""
    async with db.transaction() as session:
        row, project = await _advisor_number(session, number)
        group = await session.scalar(select(HuntGroup).where(HuntGroup.number_id == row.id))
        if group is None:
            raise NotFound(f"{row.e164} has no group")
        await session.execute(delete(HuntMember).where(HuntMember.group_id == group.id))
        await session.delete(group)
        await note(
            session, actor=actor, action="hunt_group", project_id=project.id,
            subject=f"{row.e164} rings {row.destination} again", reason=reason,
        )  # fmt: skip
        return row.e164
