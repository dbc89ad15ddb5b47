"""What one call carries: ``CallSetup`` (fixed when the caller arrives) and ``CallContext``
(what the states fill in and own), with the helpers handlers use to emit commands."""

from __future__ import annotations

from dataclasses import dataclass, field

from pbx_engine.call import commands as cmd
from pbx_engine.call.attempts import Hunt
from pbx_engine.call.events import NumberInfo
from pbx_engine.call.record import CallRecord
from pbx_engine.call.types import Cause, Role, Side, State, TimerId
from prompts import PromptId, fragments
from rating.ints import ceil_div

DIAL_TIMEOUT_S = 30
PIN_TOTAL_MS = 20_000
PIN_DIGIT_MS = 5_000
PRESS_1_MS = 10_000
FAREWELL_GUARD_MS = 20_000
"""A farewell (2–5 s of prompts) that has not ended this long after the call did never will."""
DEFAULT_CHECKPOINT_MS = 5_000
MAX_ANNOUNCED_MINUTES = 9_999


@dataclass(frozen=True)
class CallSetup:
    """Known when the caller's channel enters the app; never changes."""

    call_id: str
    channel: str
    dialed: str
    caller: str | None
    payphone: bool = False
    checkpoint_ms: int = DEFAULT_CHECKPOINT_MS


@dataclass
class PinEntry:
    """Owned by COLLECTING_PIN and ACTIVATING."""

    digits: str = ""
    tries: int = 0
    clock_running: bool = False
    prompts: tuple[PromptId, ...] = ()


@dataclass
class Money:
    """Owned from AUTHORIZING on: the hold and the talk seconds it covers."""

    hold_id: int | None = None
    affordable_s: int = 0
    price_per_minute: int | None = None
    after_announcement: bool = False
    settled: bool = False


@dataclass
class Legs:
    """Owned from DIALING on: the advisor leg, the bridge and Asterisk's stamps."""

    advisor: str | None = None
    bridge: str | None = None
    in_bridge: set[str] = field(default_factory=set)
    answered_ms: int | None = None
    charge_start_ms: int | None = None


@dataclass
class Ending:
    """How the call ends: set by the handler that decides it, read by CLOSING and FAREWELL."""

    prompts: tuple[PromptId, ...] = ()
    cause: Cause = Cause.HANGUP
    side: Side = Side.ENGINE
    q850: int | None = None
    ended_ms: int | None = None


@dataclass
class CallContext:
    setup: CallSetup
    state: State = State.ARRIVING
    """Kept by the machine: handlers shared by several states answer it to stay."""
    arrived_ms: int = 0
    target: str = ""
    """The number being served: the dialed one, or the default advisor after press-1."""
    info: NumberInfo = field(default_factory=lambda: NumberInfo(role=None))
    card_id: int | None = None
    card_seconds: int = 0
    answered: bool = False
    waiting_for: str | None = None
    playbacks: int = 0
    now_ms: int = 0
    """Asterisk's stamp of the last event that carried one: entry actions read it."""
    pin: PinEntry = field(default_factory=PinEntry)
    money: Money = field(default_factory=Money)
    legs: Legs = field(default_factory=Legs)
    hunt: Hunt = field(default_factory=Hunt)
    ending: Ending = field(default_factory=Ending)
    out: list[cmd.Command] = field(default_factory=list)

    @property
    def call_id(self) -> str:
        return self.setup.call_id

    @property
    def channel(self) -> str:
        return self.setup.channel

    @property
    def caller(self) -> str:
        return self.setup.caller or ""

    @property
    def lang(self) -> str:
        return self.info.lang

    def is_advisor_call(self) -> bool:
        return self.info.role is Role.ADVISOR

    def emit(self, *commands: cmd.Command) -> None:
        self.out.extend(commands)

    def answer(self) -> None:
        if not self.answered:
            self.answered = True
            self.emit(cmd.Answer(self.channel))

    def play(self, *parts: PromptId, minutes: int | None = None, to_bridge: bool = False) -> str:
        """Play prompts (a ``minutes`` prompt expands to its fragments); remember what to await."""
        paths: list[str] = []
        for part in parts:
            pid = PromptId(part)  # an id outside the catalogue is refused, never played
            composed = pid in (PromptId.REMAINING, PromptId.BALANCE_IS)
            paths.extend(fragments(pid, self.lang, minutes=minutes) if composed else [pid.value])
        return self.play_paths(paths, to_bridge=to_bridge)

    def play_paths(self, paths: list[str], *, to_bridge: bool = False) -> str:
        self.playbacks += 1
        playback_id = f"{self.call_id}-pb{self.playbacks}"
        bridge = self.legs.bridge if to_bridge else None
        self.emit(
            cmd.Play(
                playback_id,
                tuple(paths),
                self.lang,
                bridge=bridge,
                channel=None if bridge else self.channel,
            )
        )
        self.waiting_for = playback_id
        return playback_id

    def stop_prompt(self) -> None:
        if self.waiting_for:
            self.emit(cmd.StopPlayback(self.waiting_for))
            self.waiting_for = None

    def timer(self, timer: TimerId, at_ms: int) -> None:
        self.emit(cmd.StartTimer(timer, at_ms))

    def cancel(self, *timers: TimerId) -> None:
        self.emit(*(cmd.CancelTimer(t) for t in timers))

    def talk_s(self, at_ms: int) -> int:
        """Started seconds since the charging start, never beyond what the hold covers."""
        start = self.legs.charge_start_ms
        if start is None:
            return 0
        return min(ceil_div(max(0, at_ms - start), 1000), self.money.affordable_s)

    def end_at_ms(self) -> int:
        assert self.legs.charge_start_ms is not None
        return self.legs.charge_start_ms + 1000 * self.money.affordable_s

    def settle_once(self, at_ms: int) -> None:
        """Emit the advisor call's one Settle (billing, or releasing an unused hold)."""
        if not self.is_advisor_call() or self.money.settled:
            return
        self.money.settled = True
        self.ending.ended_ms = at_ms
        record = CallRecord(
            call_id=self.call_id,
            project_id=self.info.project_id,
            caller=self.caller,
            dialed=self.target,
            advisor=self._advisor_named(),
            card_id=self.card_id,
            arrived_ms=self.arrived_ms,
            answered_ms=self.legs.answered_ms,
            charge_start_ms=self.legs.charge_start_ms,
            ended_ms=at_ms,
            talk_s=self.talk_s(at_ms),
            cause=self.ending.cause,
            side=self.ending.side,
            q850=self.ending.q850,
        )
        self.emit(cmd.Settle(self.money.hold_id, record))
        if self.hunt.claimed():
            answered = self.hunt.answered()
            self.emit(
                cmd.RecordAttempts(
                    tuple(a.record(at_ms) for a in self.hunt.attempts),
                    None if answered is None else answered.advisor_id,
                    self.hunt.wrapup_s,
                )
            )

    def _advisor_named(self) -> str | None:
        """The call record's advisor: who answered the hunt, else the number's dial string."""
        if not self.info.hunt:
            return self.info.destination
        answered = self.hunt.answered()
        return None if answered is None else answered.name

    def end_as(self, cause: Cause, side: Side, *prompts: PromptId, q850: int | None = None) -> None:
        self.ending.cause, self.ending.side, self.ending.q850 = cause, side, q850
        self.ending.prompts = prompts


def announced_minutes(affordable_s: int) -> int:
    """Whole minutes to announce: rounded down, but "one" rather than "zero" for a started one."""
    return min(max(affordable_s // 60, 1 if affordable_s else 0), MAX_ANNOUNCED_MINUTES)
