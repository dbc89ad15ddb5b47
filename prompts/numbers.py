"""Numbers 0–9999 as spoken fragments, one speller per language with that language's rules.

German: einundzwanzig, hundertundeins, zweitausendvierundzwanzig; "eine" before a feminine noun
("eine Minute", "hundertundeine Minuten"). English (British): twenty-one, one hundred and one.
Each fragment id is also a sound file, so any number is played as 1–4 short files: ``n0``–``n99``,
``h1``–``h9`` (hundreds), ``t1``–``t9`` (thousands), ``and`` and ``one_f`` (German "eine").
A language is spoken only with its own speller (``prompts.languages``): none falls back to another.
"""

from __future__ import annotations

from typing import Protocol

_DE_UNITS = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
]
_DE_TENS = [
    "",
    "",
    "zwanzig",
    "dreißig",
    "vierzig",
    "fünfzig",
    "sechzig",
    "siebzig",
    "achtzig",
    "neunzig",
]
_EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

MAX_NUMBER = 9999


class Speller(Protocol):
    """One language's number words: the text of each fragment, and the fragments of a number."""

    def fragment_text(self, fragment: str) -> str: ...

    def fragments(self, n: int, *, feminine_noun: bool) -> list[str]: ...

    def join(self, words: list[str]) -> str: ...


def all_fragments() -> list[str]:
    return (
        [f"n{i}" for i in range(100)]
        + [f"h{i}" for i in range(1, 10)]
        + [f"t{i}" for i in range(1, 10)]
        + ["and", "one_f"]
    )


def _scales(n: int) -> tuple[list[str], int]:
    """The thousands and hundreds fragments of ``n`` and what is left below 100."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("a number to say must be an int")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"numbers are said from 0 to {MAX_NUMBER}, got {n}")
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    return [f"t{thousands}"] * bool(thousands) + [f"h{hundreds}"] * bool(hundreds), below


class German:
    def fragment_text(self, fragment: str) -> str:
        """``n21`` einundzwanzig, ``h3`` dreihundert, ``t1`` tausend, ``one_f`` eine."""
        if fragment == "and":
            return "und"
        if fragment == "one_f":
            return "eine"
        kind, n = fragment[0], int(fragment[1:])
        if kind == "n":
            return _de_below_100(n)
        scale = {"h": "hundert", "t": "tausend"}[kind]
        return scale if n == 1 else f"{_DE_UNITS[n]}{scale}"

    def fragments(self, n: int, *, feminine_noun: bool) -> list[str]:
        """hundertundeins (und only before a unit), zweitausendvierundzwanzig; "eine" before a
        feminine noun."""
        parts, below = _scales(n)
        if n == 0:
            return ["n0"]
        if below:
            parts += ["and"] * bool(parts and below < 10) + [f"n{below}"]
        if feminine_noun and below == 1:
            parts[-1] = "one_f"
        return parts

    def join(self, words: list[str]) -> str:
        return "".join(words)


class English:
    def fragment_text(self, fragment: str) -> str:
        """``n21`` twenty-one, ``h3`` three hundred, ``t1`` one thousand, ``and``; ``one_f`` one."""
        if fragment == "and":
            return "and"
        if fragment == "one_f":
            return "one"
        kind, n = fragment[0], int(fragment[1:])
        if kind == "n":
            return _en_below_100(n)
        return f"{_EN_UNITS[n]} {({'h': 'hundred', 't': 'thousand'})[kind]}"

    def fragments(self, n: int, *, feminine_noun: bool) -> list[str]:
        """British: one hundred and one, two thousand and twenty-four (no gender)."""
        parts, below = _scales(n)
        if n == 0:
            return ["n0"]
        if below:
            parts += ["and"] * bool(parts) + [f"n{below}"]
        return parts

    def join(self, words: list[str]) -> str:
        return " ".join(words)


def _de_below_100(n: int) -> str:
    if n < 20:
        return _DE_UNITS[n]
    tens, units = divmod(n, 10)
    if units == 0:
        return _DE_TENS[tens]
    # "eins" loses its s inside a compound: einundzwanzig, not einsundzwanzig.
    unit = "ein" if units == 1 else _DE_UNITS[units]
    return f"{unit}und{_DE_TENS[tens]}"


def _en_below_100(n: int) -> str:
    if n < 20:
        return _EN_UNITS[n]
    tens, units = divmod(n, 10)
    return _EN_TENS[tens] if units == 0 else f"{_EN_TENS[tens]}-{_EN_UNITS[units]}"
