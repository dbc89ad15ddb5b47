"""Which call owns a channel, a playback or a card: learnt from the commands the runner runs."""

from __future__ import annotations

from collections import defaultdict


class Registry:
    def __init__(self) -> None:
        self.channels: dict[str, str] = {}
        self.playbacks: dict[str, str] = {}
        self.cards: dict[str, int] = {}
        self._calls_of_card: defaultdict[int, set[str]] = defaultdict(set)

    def add_card(self, call_id: str, card_id: int) -> None:
        self.cards[call_id] = card_id
        self._calls_of_card[card_id].add(call_id)

    def calls_of_card(self, card_id: int) -> set[str]:
        return set(self._calls_of_card.get(card_id, ()))

    def live_cards(self) -> list[int]:
        return sorted(self._calls_of_card)

    def forget(self, call_id: str) -> None:
        for table in (self.channels, self.playbacks):
            for key in [k for k, owner in table.items() if owner == call_id]:
                del table[key]
        card = self.cards.pop(call_id, None)
        if card is not None:
            self._calls_of_card[card].discard(call_id)
            if not self._calls_of_card[card]:
                del self._calls_of_card[card]
