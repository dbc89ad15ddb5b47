"""Prompt catalogue, the registry of its languages (de, en) with their number spellers,
sentence composition and the TTS build."""

from prompts.catalogue import PROMPTS, PromptId
from prompts.languages import LANGUAGES
from prompts.sentences import fragments, sentence

__all__ = ["LANGUAGES", "PROMPTS", "PromptId", "fragments", "sentence"]
