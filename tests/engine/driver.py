"""Drives one sans-IO Call with a fake clock: collects commands, keeps and fires its timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallSetup
from pbx_engine.call.machine import Call
from pbx_engine.call.types import TimerId
from rating import CallerClass, Increments, Tariff, Unit

C = TypeVar("C")
CALLER = "+4930123456"
CARD_NO = "+498912345670"
ADVISOR_NO = "+498912345671"


def minutes_tariff(inc: str = "1/1", **kw) -> Tariff:
    return Tariff(Unit.MINUTES, Increments.parse(inc), multipliers={CallerClass.FIXED: 1}, **kw)


def money_tariff(inc: str = "1/1", price: int = 6_000, **kw) -> Tariff:
    return Tariff(Unit.MONEY, Increments.parse(inc), prices={CallerClass.FIXED: price}, **kw)


@dataclass
class Driver:
    call: Call | None = None
    now: int = 1_000_000
    timers: dict[TimerId, int] = field(default_factory=dict)
    commands: list[cmd.Command] = field(default_factory=list)

    @property
    def machine(self) -> Call:
        assert self.call is not None, "start() first"
        return self.call

    def send(self, event: ev.Event) -> list[cmd.Command]:
        out = self.machine.handle(event)
        for command in out:
            if isinstance(command, cmd.StartTimer):
                self.timers[command.timer] = command.at_ms
            elif isinstance(command, cmd.CancelTimer):
                self.timers.pop(command.timer, None)
        self.commands.extend(out)
        return out

    def advance(self, ms: int) -> list[cmd.Command]:
        """Move the clock, firing due timers in order at their exact instants."""
        target = self.now + ms
        out: list[cmd.Command] = []
        while self.timers and min(self.timers.values()) <= target:
            timer = min(self.timers, key=self.timers.__getitem__)
            self.now = max(self.now, self.timers.pop(timer))  # a timer set in the past fires now
            out += self.send(ev.TimerFired(timer, self.now))
        self.now = target
        return out

    def played(self) -> list[cmd.Command]:
        return self.send(ev.PlaybackFinished(self.machine.ctx.waiting_for or "", self.now))

    def of(self, kind: type[C], out: list[cmd.Command] | None = None) -> list[C]:
        return [c for c in (self.commands if out is None else out) if isinstance(c, kind)]

    def one(self, kind: type[C], out: list[cmd.Command] | None = None) -> C:
        found = self.of(kind, out)
        assert len(found) == 1, (kind, found)
        return found[0]

    def start(self, dialed: str = ADVISOR_NO, caller: str | None = CALLER) -> list[cmd.Command]:
        self.call = Call(CallSetup("c1", "chan-caller", dialed, caller))
        return self.send(ev.Started(self.now))

    def digits(self, text: str) -> list[cmd.Command]:
        out = []
        for d in text:
            out += self.send(ev.Digit("chan-caller", d, self.now))
            self.now += 200
        return out

    def authorized(self, credit_s: int, **kw) -> list[cmd.Command]:
        return self.send(ev.Authorized(42, credit_s, **kw))

    def bridge(self, advisor: str = "c1-advisor") -> list[cmd.Command]:
        """Both legs enter the bridge, the advisor 20 ms after the caller (Asterisk's stamps)."""
        out = self.send(ev.EnteredBridge("chan-caller", "c1-bridge", self.now))
        self.now += 20
        return out + self.send(ev.EnteredBridge(advisor, "c1-bridge", self.now))

    def connect(self, info: ev.NumberInfo, credit_s: int, **kw) -> list[cmd.Command]:
        """Start an advisor call and run it up to both legs in the bridge; return those
        commands. Charging starts at ``self.now`` when this returns."""
        self.start()
        self.send(info)
        self.authorized(credit_s, **kw)
        self.played()
        dial = self.one(cmd.Dial)
        self.now += 5_000
        out = self.send(ev.AdvisorAnswered(dial.channel, self.now))
        return out + self.bridge(dial.channel)
