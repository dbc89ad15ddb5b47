"""The engine refers only to catalogue prompt ids, and every sound it can play gets built."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pbx_engine.call.context import CallContext, CallSetup
from prompts import LANGUAGES, PromptId
from prompts.sentences import all_sounds, fragments, price_fragments

CALL_DIR = Path(__file__).resolve().parents[2] / "pbx_engine" / "call"


def test_every_prompt_id_named_in_the_engine_is_in_the_catalogue() -> None:
    named = set()
    for source in CALL_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "PromptId"
            ):
                named.add(node.attr)
    assert named, "the engine names no prompt at all?"
    assert named <= set(PromptId.__members__), named - set(PromptId.__members__)


def test_an_unknown_prompt_id_is_refused() -> None:
    ctx = CallContext(CallSetup("c1", "ch", "+498912345671", "+4930123456"))
    with pytest.raises(ValueError):
        ctx.play("no_such_prompt")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sound_the_engine_can_compose_is_built(lang: str) -> None:
    built = set(all_sounds(lang))
    for minutes in range(10_000):
        assert set(fragments(PromptId.REMAINING, lang, minutes=minutes)) <= built
    for price in (1, 99, 100, 19_900, 999_900):
        assert set(price_fragments(price, lang)) <= built
