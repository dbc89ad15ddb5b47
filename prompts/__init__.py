"""Prompt catalogue (de, en), number words, sentence composition and the TTS build."""

from prompts.catalogue import LANGUAGES, PROMPTS, PromptId
from prompts.sentences import fragments, sentence

__all__ = ["LANGUAGES", "PROMPTS", "PromptId", "fragments", "sentence"]
