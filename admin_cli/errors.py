"""Operator-facing errors: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import click

from cards.validate import PG_INTEGER_MAX

EXIT_BAD_INPUT = 2
QUOTE_LIMIT = 80
T = TypeVar("T")
_QUOTED = re.compile(rf"'[^'\n]{{{QUOTE_LIMIT + 1},}}'|\"[^\"\n]{{{QUOTE_LIMIT + 1},}}\"")


def one_line(message: str) -> str:
    """An error as one line, each quoted input cut to 80 characters (a pasted file or a
    10,000-digit number must not flood the operator's terminal or log)."""
    flat = " ".join(message.split())
    return _QUOTED.sub(lambda m: m[0][: QUOTE_LIMIT - 1] + "…" + m[0][-1], flat)


class OperatorError(click.ClickException):
    """A refusal the operator can act on; printed as one line."""

    exit_code = EXIT_BAD_INPUT


def parse_or_fail(parser: Callable[[str], T], text: str, what: str) -> T:
    """Run ``parser(text)`` and turn ValueError/TypeError into an OperatorError naming ``what``."""
    try:
        return parser(text)
    except (ValueError, TypeError) as exc:
        raise OperatorError(f"{what}: {exc}") from exc


def parse_count(text: str) -> int:
    """A whole number of 0 to 2,147,483,647 (what every database column here holds) in ASCII
    digits as typed by a person (``"120"``); never a float, never ``١٥``."""
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise ValueError(f"must be a whole number of 0 or more in digits 0-9, got {text!r}")
    if len(cleaned.lstrip("0")) > 10 or int(cleaned) > PG_INTEGER_MAX:
        raise ValueError(f"must be at most {PG_INTEGER_MAX}, got {text!r}")
    return int(cleaned)
