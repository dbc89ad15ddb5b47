"""Which call owns a channel, a playback or a card: learnt from the commands the runner runs."""

from __future__ import annotations

from collections import defaultdict


class Registry:
    def __init__(self) -> None:
        self.channels: dict[str, str] = {}
        self.playbacks: dict[str, str] = {}
        self.cards: dict[str, int] = {}
        self._calls_of_card: defaultdict[int, set[str]] = defaultdict(set)
        self._owned: defaultdict[str, list[tuple[dict[str, str], str]]] = defaultdict(list)
        """Per call, the channel and playback keys it was given: forgetting a call looks at
        its own keys, not at every live call's (at 3,000 live calls the scan was 5 % of the
        engine's CPU, bench.capacity)."""

    def own_channel(self, channel: str, call_id: str) -> None:
        self.channels[channel] = call_id
        self._owned[call_id].append((self.channels, channel))

    def own_playback(self, playback_id: str, call_id: str) -> None:
        self.playbacks[playback_id] = call_id
        self._owned[call_id].append((self.playbacks, playback_id))

    def add_card(self, call_id: str, card_id: int) -> None:
        self.cards[call_id] = card_id
        self._calls_of_card[card_id].add(call_id)

    def calls_of_card(self, card_id: int) -> set[str]:
        return set(self._calls_of_card.get(card_id, ()))

    def live_cards(self) -> list[int]:
        return sorted(self._calls_of_card)

    def forget(self, call_id: str) -> None:
        for table, key in self._owned.pop(call_id, ()):
            if table.get(key) == call_id:  # a playback is dropped when it finishes
                del table[key]
        card = self.cards.pop(call_id, None)
        if card is not None:
            self._calls_of_card[card].discard(call_id)
            if not self._calls_of_card[card]:
                del self._calls_of_card[card]
