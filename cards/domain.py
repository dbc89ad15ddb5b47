"""The money domain's closed sets of values, and the column type that keeps each as text in the
database while the code only ever sees the enum's members."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class CardStatus(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class HoldState(StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    RELEASED = "released"


class NumberRole(StrEnum):
    CARD = "card"
    ADVISOR = "advisor"
    LOGIN = "login"


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


class CustomerKind(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


class EntryKind(StrEnum):
    TOPUP = "topup"
    BONUS = "bonus"
    VOUCHER = "voucher"
    CALL = "call"
    ADJUST = "adjust"
    CREDIT = "credit"
    DEBIT = "debit"
    REFUND = "refund"
    EXPIRY = "expiry"
    SETTLEMENT = "settlement"


class OrderStatus(StrEnum):
    """An online top-up's order (issue 24, ``services.order_states``)."""

    CREATED = "created"
    AUTHORIZED = "authorized"
    CREDITED = "credited"
    CAPTURED = "captured"
    FAILED = "failed"
    EXPIRED = "expired"
    VOIDED = "voided"


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum kept as VARCHAR (no schema change, no native enum to migrate): a value outside
    the enum is refused on the way in and on the way out."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)
