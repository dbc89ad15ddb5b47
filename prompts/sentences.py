"""Sentences built from catalogue prompts and number fragments: what a caller hears."""

from __future__ import annotations

from prompts.catalogue import PROMPTS, PromptId
from prompts.languages import language, number_fragments, number_words
from prompts.numbers import all_fragments

NUMBER_DIR = "num"
WITH_MINUTES = {PromptId.REMAINING: PromptId.CREDIT_SUFFIX, PromptId.BALANCE_IS: None}


def _check(prompt: PromptId | str, lang: str) -> PromptId:
    language(lang)
    try:
        return PromptId(prompt)
    except ValueError as exc:
        raise ValueError(f"unknown prompt id {prompt!r}") from exc


def fragments(prompt: PromptId | str, lang: str, *, minutes: int | None = None) -> list[str]:
    """Sound paths (relative to ``minutecard/<lang>/``) to play, in order, for one prompt.

    ``remaining`` and ``balance_is`` take ``minutes`` and become "Sie haben noch
    einundzwanzig Minuten Guthaben." and "Ihr Guthaben beträgt eine Minute".
    """
    pid = _check(prompt, lang)
    if pid not in WITH_MINUTES:
        if minutes is not None:
            raise ValueError(f"prompt {pid} takes no minutes")
        return [pid.value]
    if minutes is None:
        raise ValueError(f"prompt {pid} needs minutes")
    noun = PromptId.MINUTE if minutes == 1 else PromptId.MINUTES
    numbers = [f"{NUMBER_DIR}/{f}" for f in number_fragments(minutes, lang, feminine_noun=True)]
    suffix = WITH_MINUTES[pid]
    return [pid.value, *numbers, noun.value, *([suffix.value] if suffix else [])]


def sentence(prompt: PromptId | str, lang: str, *, minutes: int | None = None) -> str:
    """The sentence a caller hears, as text."""
    pid = _check(prompt, lang)
    parts = fragments(pid, lang, minutes=minutes)
    words = []
    for part in parts:
        if part.startswith(f"{NUMBER_DIR}/"):
            continue
        words.append(PROMPTS[PromptId(part)][lang])
    if minutes is not None:
        words.insert(1, number_words(minutes, lang, feminine_noun=True))
    text = " ".join(words)
    return text if text.endswith(".") else text + "."


def warning_fragments(lead_s: int, lang: str) -> list[str]:
    """ "Hinweis: Ihr Guthaben reicht noch für zwei Minuten." for the lead the call really has:
    whole minutes from one minute on (rounded down: never more than there is), else seconds."""
    _check(PromptId.WARNING, lang)
    count, noun = _warning_lead(lead_s)
    numbers = [f"{NUMBER_DIR}/{f}" for f in number_fragments(count, lang, feminine_noun=True)]
    return [PromptId.WARNING.value, *numbers, noun.value]


def warning_sentence(lead_s: int, lang: str) -> str:
    """The warning as text (``cardadmin prompts text warning --seconds N``)."""
    _check(PromptId.WARNING, lang)
    count, noun = _warning_lead(lead_s)
    words = [PROMPTS[PromptId.WARNING][lang], number_words(count, lang, feminine_noun=True)]
    return " ".join([*words, PROMPTS[noun][lang]]) + "."


def _warning_lead(lead_s: int) -> tuple[int, PromptId]:
    """Whole minutes from one minute on (rounded down), else seconds; and the noun for it."""
    if lead_s < 0:
        raise ValueError("a warning lead cannot be negative")
    if lead_s >= 60:
        count = lead_s // 60
        return count, PromptId.MINUTE if count == 1 else PromptId.MINUTES
    return lead_s, PromptId.SECOND if lead_s == 1 else PromptId.SECONDS


def all_sounds(lang: str) -> dict[str, str]:
    """Every sound file of a language (relative path → text), for the build."""
    speller = language(lang).numbers
    sounds = {pid.value: PROMPTS[pid][lang] for pid in PromptId}
    for frag in all_fragments():
        sounds[f"{NUMBER_DIR}/{frag}"] = speller.fragment_text(frag)
    return sounds


def price_fragments(units_per_minute: int, lang: str) -> list[str]:
    """ "Dieses Gespräch kostet eins Euro neunundneunzig Cent pro Minute." as sound paths.

    The price is said to the cent, rounded up (a price with sub-cent digits is never
    announced lower than it is).
    """
    cents_total = -(-units_per_minute // 100)
    euros, cents = divmod(cents_total, 100)
    paths = [PromptId.TARIFF.value]
    if euros or not cents:
        paths += [f"{NUMBER_DIR}/{f}" for f in number_fragments(euros, lang)]
        paths.append(PromptId.EURO.value)
    if cents:
        paths += [f"{NUMBER_DIR}/{f}" for f in number_fragments(cents, lang)]
        paths.append(PromptId.CENT.value)
    paths.append(PromptId.PER_MINUTE.value)
    return paths
