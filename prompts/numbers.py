"""Numbers 0–9999 as spoken fragments, by the language's rules.

German: einundzwanzig, hundertundeins, zweitausendvierundzwanzig; "eine" before a feminine noun
("eine Minute", "hundertundeine Minuten"). English (British): twenty-one, one hundred and one.
Each fragment id is also a sound file, so any number is played as 1–4 short files.
"""

from __future__ import annotations

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


def fragment_text(fragment: str, lang: str) -> str:
    """Words of a fragment id: ``n21``, ``h3`` (300), ``t2`` (2000), ``and``, ``one_f`` (eine)."""
    kind, value = fragment[0], fragment[1:]
    if fragment == "and":
        return "und" if lang == "de" else "and"
    if fragment == "one_f":
        return "eine" if lang == "de" else "one"
    n = int(value)
    if kind == "n":
        return _de_below_100(n) if lang == "de" else _en_below_100(n)
    scale = {"h": ("hundert", "hundred"), "t": ("tausend", "thousand")}[kind]
    if lang == "de":
        return scale[0] if n == 1 else f"{_DE_UNITS[n]}{scale[0]}"
    return f"{_EN_UNITS[n]} {scale[1]}"


def all_fragments() -> list[str]:
    return (
        [f"n{i}" for i in range(100)]
        + [f"h{i}" for i in range(1, 10)]
        + [f"t{i}" for i in range(1, 10)]
        + ["and", "one_f"]
    )


def number_fragments(n: int, lang: str, *, feminine_noun: bool = False) -> list[str]:
    """Fragment ids that say ``n``; ``feminine_noun`` for a following "Minute(n)"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("a number to say must be an int")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"numbers are said from 0 to {MAX_NUMBER}, got {n}")
    if n == 0:
        return ["n0"]
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    parts = []
    if thousands:
        parts.append(f"t{thousands}")
    if hundreds:
        parts.append(f"h{hundreds}")
    if below:
        # German: hundertundeins; English: one hundred and one, two thousand and twenty-four.
        if parts and (lang == "en" or below < 10):
            parts.append("and")
        parts.append(f"n{below}")
    if lang == "de" and feminine_noun and below == 1:
        parts[-1] = "one_f"
    return parts


def number_words(n: int, lang: str, *, feminine_noun: bool = False) -> str:
    """The written-out number: German as one word, English with spaces."""
    words = [fragment_text(f, lang) for f in number_fragments(n, lang, feminine_noun=feminine_noun)]
    return "".join(words) if lang == "de" else " ".join(words)
