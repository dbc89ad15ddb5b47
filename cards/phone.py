"""Caller and dialed numbers: normalise to E.164 with phonenumbers and classify the caller."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from cards.errors import InvalidInput

HOME_REGION = "DE"
_TYPED = re.compile(r"\+?[0-9][0-9 ()/-]{2,30}", re.ASCII)
"""What a number may look like as typed or sent: ASCII digits (phonenumbers would also read
Arabic-Indic digits, letters and ;ext=, and turn them into a different, valid number)."""


class LineKind(StrEnum):
    FIXED = "fixed"
    MOBILE = "mobile"
    FOREIGN = "foreign"
    PAYPHONE = "payphone"


PARSED_KEPT = 4096
"""Numbers whose parse is remembered: each call parses its caller and dialed number several
times (routing, tariff, caller class) and phonenumbers costs ~0.2 ms a parse."""


@lru_cache(maxsize=PARSED_KEPT)
def to_e164(text: str, region: str = HOME_REGION) -> str:
    """``+4989…`` from ``089…``, ``0049…`` or ``+49…``; InvalidInput for anything else."""
    raw = (text or "").strip()
    if not _TYPED.fullmatch(raw):
        raise InvalidInput(
            f"not a phone number: {raw[:40]!r} (digits 0-9, an optional leading +, "
            "blanks, / - ( ) only; no extension)"
        )
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        raise InvalidInput(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(parsed) or parsed.extension:
        raise InvalidInput(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """The national dialling form (``089…``) of an E.164 number, digits only."""
    parsed = phonenumbers.parse(e164, None)
    return "0" + str(parsed.national_number) if parsed.country_code == 49 else e164


@lru_cache(maxsize=PARSED_KEPT)
def line_kind(e164: str, region: str = HOME_REGION) -> LineKind:
    """Fixed, mobile, foreign or payphone, for tariffs and for 0800 acceptance rules."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) != region:
        return LineKind.FOREIGN
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.MOBILE:
        return LineKind.MOBILE
    return LineKind.FIXED


def is_toll_free(e164: str) -> bool:
    return phonenumbers.number_type(phonenumbers.parse(e164, None)) == PhoneNumberType.TOLL_FREE
