"""The catalogue and the number rules: every id in both languages, numbers said correctly."""

from __future__ import annotations

import click
import pytest

from admin_cli.project_cmds import number_add
from prompts import LANGUAGES, PROMPTS, PromptId, fragments, sentence
from prompts.languages import REGISTRY, number_fragments, number_words
from prompts.sentences import all_sounds

SPEC_IDS = {
    "welcome",
    "enter_pin",
    "pin_invalid",
    "pin_locked",
    "activated",
    "balance_is",
    "remaining",
    "minute",
    "minutes",
    "not_activated",
    "no_credit",
    "warning",
    "warning_soon",
    "second",
    "seconds",
    "credit_exhausted",
    "connecting",
    "advisor_unavailable",
    "number_not_reachable",
    "clir_required",
    "topped_up",
    "press_1_to_connect",
    "tariff",
    "goodbye",
}


def test_every_spec_prompt_exists_in_both_languages() -> None:
    assert {p.value for p in PromptId} >= SPEC_IDS
    for pid in PromptId:
        for lang in LANGUAGES:
            assert PROMPTS[pid][lang].strip(), (pid, lang)
    assert set(PROMPTS) == set(PromptId)


def test_the_catalogue_speaks_exactly_the_registered_languages() -> None:
    assert LANGUAGES == tuple(REGISTRY) == ("de", "en")
    assert {lang for texts in PROMPTS.values() for lang in texts} == set(LANGUAGES)


@pytest.mark.parametrize(
    "call",
    [
        lambda: number_words(21, "fr"),
        lambda: number_fragments(21, "fr"),
        lambda: fragments("remaining", "fr", minutes=21),
        lambda: all_sounds("fr"),
    ],
)
def test_a_language_without_a_speller_is_refused_not_spoken_in_english(call) -> None:
    with pytest.raises(ValueError, match="language must be one of de, en, got 'fr'"):
        call()


def test_the_operator_can_fix_only_registered_languages() -> None:
    [lang] = [p for p in number_add.params if p.name == "lang"]
    assert isinstance(lang.type, click.Choice)
    assert tuple(lang.type.choices) == LANGUAGES


NUMBERS = [
    (0, "null", "zero"),
    (1, "eins", "one"),
    (2, "zwei", "two"),
    (16, "sechzehn", "sixteen"),
    (21, "einundzwanzig", "twenty-one"),
    (60, "sechzig", "sixty"),
    (100, "hundert", "one hundred"),
    (101, "hundertundeins", "one hundred and one"),
    (121, "hunderteinundzwanzig", "one hundred and twenty-one"),
    (1000, "tausend", "one thousand"),
    (2024, "zweitausendvierundzwanzig", "two thousand and twenty-four"),
    (9999, "neuntausendneunhundertneunundneunzig", "nine thousand nine hundred and ninety-nine"),
]


@pytest.mark.parametrize(("n", "de", "en"), NUMBERS)
def test_number_words(n: int, de: str, en: str) -> None:
    assert number_words(n, "de") == de
    assert number_words(n, "en") == en


@pytest.mark.parametrize(
    ("n", "de", "en"),
    [
        (1, "Sie haben noch eine Minute Guthaben.", "You have one minute of credit left."),
        (2, "Sie haben noch zwei Minuten Guthaben.", "You have two minutes of credit left."),
        (
            21,
            "Sie haben noch einundzwanzig Minuten Guthaben.",
            "You have twenty-one minutes of credit left.",
        ),
        (
            101,
            "Sie haben noch hundertundeine Minuten Guthaben.",
            "You have one hundred and one minutes of credit left.",
        ),
        (0, "Sie haben noch null Minuten Guthaben.", "You have zero minutes of credit left."),
    ],
)
def test_remaining_with_noun_agreement(n: int, de: str, en: str) -> None:
    assert sentence("remaining", "de", minutes=n) == de
    assert sentence("remaining", "en", minutes=n) == en


def test_never_einsundzwanzig_nor_english_in_german() -> None:
    for n in range(10_000):
        words = number_words(n, "de", feminine_noun=True)
        assert "einsund" not in words
        assert not any(w in words for w in ("one", "two", "hundred", "thousand"))


def test_fragments_are_files_of_the_catalogue() -> None:
    assert fragments("remaining", "de", minutes=2024) == [
        "remaining",
        "num/t2",
        "num/n24",
        "minutes",
        "credit_suffix",
    ]
    assert fragments("balance_is", "en", minutes=1) == ["balance_is", "num/n1", "minute"]
    assert fragments("goodbye", "de") == ["goodbye"]
    assert number_fragments(101, "de", feminine_noun=True) == ["h1", "and", "one_f"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: sentence("nope", "de"),
        lambda: sentence("goodbye", "fr"),
        lambda: sentence("goodbye", "de", minutes=3),
        lambda: sentence("remaining", "de"),
        lambda: number_words(10_000, "de"),
        lambda: number_words(-1, "en"),
    ],
)
def test_bad_requests_are_value_errors(call) -> None:
    with pytest.raises(ValueError):
        call()
