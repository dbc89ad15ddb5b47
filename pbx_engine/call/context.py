"""The data one call carries between states, and the helpers states use to emit commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pbx_engine.call import commands as cmd
from pbx_engine.call.events import NumberInfo, RatingReady
from prompts import PromptId, fragments

DIAL_TIMEOUT_S = 30
PIN_TOTAL_MS = 20_000
PIN_DIGIT_MS = 5_000
PRESS_1_MS = 10_000
CHECKPOINT_MS = 30_000
MAX_ANNOUNCED_MINUTES = 9_999


@dataclass
class CallContext:
    call_id: str
    channel: str = ""
    dialed: str = ""
    caller: str | None = None
    payphone: bool = False
    arrived_ms: int = 0
    info: NumberInfo = field(default_factory=lambda: NumberInfo(role=None))
    pin: str = ""
    pin_tries: int = 0
    card_id: int | None = None
    rating: RatingReady | None = None
    affordable_s: int = 0
    reservation_id: int | None = None
    advisor_channel: str | None = None
    bridge_id: str | None = None
    answered_ms: int | None = None
    origin_ms: int | None = None
    ended_ms: int | None = None
    warned: bool = False
    answered: bool = False
    waiting_for: str | None = None
    hangup_cause: str | None = None
    hangup_side: str | None = None
    playbacks: int = 0
    out: list[cmd.Command] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.info.lang

    def emit(self, *commands: cmd.Command) -> None:
        self.out.extend(commands)

    def play(
        self, *parts: PromptId | str, minutes: int | None = None, to_bridge: bool = False
    ) -> str:
        """Play prompts (a ``minutes`` prompt expands to its fragments); remember what to await."""
        paths: list[str] = []
        for part in parts:
            pid = PromptId(part)
            paths.extend(
                fragments(pid, self.lang, minutes=minutes)
                if pid in (PromptId.REMAINING, PromptId.BALANCE_IS)
                else [pid.value]
            )
        return self.play_paths(paths, to_bridge=to_bridge)

    def answer(self) -> None:
        if not self.answered:
            self.answered = True
            self.emit(cmd.Answer(self.channel))

    def play_paths(self, paths: list[str], *, to_bridge: bool = False) -> str:
        self.playbacks += 1
        playback_id = f"{self.call_id}-pb{self.playbacks}"
        self.emit(
            cmd.Play(
                playback_id,
                tuple(paths),
                self.lang,
                bridge=self.bridge_id if to_bridge else None,
                channel=None if to_bridge else self.channel,
            )
        )
        self.waiting_for = playback_id
        return playback_id

    def timer(self, name: str, at_ms: int) -> None:
        self.emit(cmd.StartTimer(f"{self.call_id}:{name}", at_ms))

    def cancel(self, *names: str) -> None:
        self.emit(*(cmd.CancelTimer(f"{self.call_id}:{n}") for n in names))

    def is_advisor_call(self) -> bool:
        return self.info.role == "advisor"

    def record(self, *, used: int = 0, quote: dict[str, Any] | None = None) -> dict[str, Any]:
        """The call record (EVN) fields the adapter turns into a CallOutcome."""
        quote = quote or {}
        return {
            "project_id": self.info.project_id,
            "caller": self.caller or "",
            "dialed": self.dialed,
            "advisor": self.info.destination,
            "card_id": self.card_id,
            "tariff_id": self.rating.tariff_id if self.rating else None,
            "arrived_ms": self.arrived_ms,
            "answered_ms": self.answered_ms,
            "charge_start_ms": self.origin_ms,
            "ended_ms": self.ended_ms,
            "used": used,
            "billed_seconds": int(quote.get("billed_seconds", 0)),
            "cost": int(quote.get("cost", 0)),
            "quote": quote,
            "hangup_cause": self.hangup_cause,
            "hangup_side": self.hangup_side,
        }


def announced_minutes(affordable_s: int) -> int:
    """Whole minutes to announce: rounded down, but "one" rather than "zero" for a started one."""
    return min(max(affordable_s // 60, 1 if affordable_s else 0), MAX_ANNOUNCED_MINUTES)
