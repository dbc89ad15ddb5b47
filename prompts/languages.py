"""The one registry of prompt languages: each with its number speller and its espeak voice.

The catalogue's texts, the sentences, the build, the CLI's choices and the validation of a
number's fixed language all read it. Adding a language means its texts in the catalogue, one
speller in ``prompts.numbers`` and a line here; a language not here is refused everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from prompts.numbers import English, German, Speller


@dataclass(frozen=True)
class Language:
    code: str
    numbers: Speller
    espeak_voice: str


REGISTRY: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("de", German(), espeak_voice="de"),
        Language("en", English(), espeak_voice="en-gb"),
    )
}
LANGUAGES: tuple[str, ...] = tuple(REGISTRY)


def language(code: str) -> Language:
    """The registered language ``code``; ValueError for any other (never a fallback)."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {code!r}") from None


def number_fragments(n: int, lang: str, *, feminine_noun: bool = False) -> list[str]:
    """Fragment ids that say ``n`` in ``lang``; ``feminine_noun`` for a following "Minute(n)"."""
    return language(lang).numbers.fragments(n, feminine_noun=feminine_noun)


def number_words(n: int, lang: str, *, feminine_noun: bool = False) -> str:
    """The written-out number: German as one word, English with spaces."""
    speller = language(lang).numbers
    return speller.join(
        [speller.fragment_text(f) for f in speller.fragments(n, feminine_noun=feminine_noun)]
    )
