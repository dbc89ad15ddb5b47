"""Bearer tokens of the balance API: one project each, ``read`` or ``write``; the plain token is
shown once at creation and only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cards import validate
from cards.clock import utcnow
from cards.db import Database
from cards.domain import TokenScope
from cards.errors import InvalidInput, NotFound
from cards.models import ApiToken
from cards.services.projects import find_project
from cards.services.token_caps import valid_cap

SCOPES = tuple(s.value for s in TokenScope)
NAME_MAX = 50
"""So that "api token ID (NAME)" fits the ledger's actor column."""
PREFIX = "mct_"


@dataclass(frozen=True)
class Grant:
    """What a token may do: read, or read and write, the cards of one project."""

    project_id: int
    scope: str
    token_id: int = 0
    name: str | None = None

    @property
    def writes(self) -> bool:
        return self.scope == TokenScope.WRITE

    @property
    def actor(self) -> str:
        """Who a money move through this token is booked to (the ledger's ``actor``)."""
        return f"api token {self.token_id}" + (f" ({self.name})" if self.name else "")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    db: Database,
    project_ref: str,
    scope: str = TokenScope.READ,
    name: str | None = None,
    *,
    max_amount: int | None = None,
    max_amount_per_day: int | None = None,
) -> tuple[str, ApiToken]:
    """``name`` says whose token it is (a shop, a service); the ledger names it with its id.
    The caps (None: none) are ``token_caps``'s."""
    max_amount = valid_cap(max_amount, "max amount")
    max_amount_per_day = valid_cap(max_amount_per_day, "max amount per day")
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be read or write, got {scope[:10]!r}")
    if name is not None:
        name = validate.label(name, "token name")[:NAME_MAX]
    token = PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = ApiToken(
            project_id=project.id,
            scope=TokenScope(scope),
            token_hash=_digest(token),
            created_at=utcnow(),
            name=name,
            max_amount=max_amount,
            max_amount_per_day=max_amount_per_day,
        )
        session.add(row)
        await session.flush()
        return token, row


async def list_tokens(db: Database, project_ref: str | None = None) -> list[ApiToken]:
    async with db.read() as session:
        query = select(ApiToken).order_by(ApiToken.id)
        if project_ref is not None:
            project = await find_project(session, project_ref)
            query = query.where(ApiToken.project_id == project.id)
        return list((await session.scalars(query)).all())


async def revoke(db: Database, token_id: int, *, now: datetime | None = None) -> ApiToken:
    async with db.transaction() as session:
        row = await session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now or utcnow()
        return row


async def authenticate(db: Database, token: str) -> Grant | None:
    """The grant of a live token; None for anything else (unknown, revoked, malformed)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    async with db.read() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    return Grant(row.project_id, row.scope, row.id, row.name)
