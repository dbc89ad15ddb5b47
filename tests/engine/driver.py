"""Drives one sans-IO Call with a fake clock: collects commands, keeps and fires its timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.machine import Call
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
    call: Call = field(default_factory=lambda: Call("c1"))
    now: int = 1_000_000
    timers: dict[str, int] = field(default_factory=dict)
    commands: list[cmd.Command] = field(default_factory=list)

    def send(self, event: ev.Event) -> list[cmd.Command]:
        out = self.call.handle(event)
        for command in out:
            if isinstance(command, cmd.StartTimer):
                self.timers[command.name] = command.at_ms
            elif isinstance(command, cmd.CancelTimer):
                self.timers.pop(command.name, None)
        self.commands.extend(out)
        return out

    def advance(self, ms: int) -> list[cmd.Command]:
        """Move the clock, firing due timers in order at their exact instants."""
        target = self.now + ms
        out: list[cmd.Command] = []
        while self.timers and min(self.timers.values()) <= target:
            name = min(self.timers, key=self.timers.__getitem__)
            self.now = self.timers.pop(name)
            out += self.send(ev.TimerFired(name, self.now))
        self.now = target
        return out

    def played(self) -> list[cmd.Command]:
        return self.send(ev.PlaybackFinished(self.call.ctx.waiting_for or "", self.now))

    def of(self, kind: type[C], out: list[cmd.Command] | None = None) -> list[C]:
        return [c for c in (self.commands if out is None else out) if isinstance(c, kind)]

    def one(self, kind: type[C], out: list[cmd.Command] | None = None) -> C:
        found = self.of(kind, out)
        assert len(found) == 1, (kind, found)
        return found[0]

    def start(self, dialed: str = ADVISOR_NO, caller: str | None = CALLER) -> list[cmd.Command]:
        return self.send(ev.Started("chan-caller", dialed, caller, self.now))

    def digits(self, text: str) -> list[cmd.Command]:
        out = []
        for d in text:
            out += self.send(ev.Digit("chan-caller", d, self.now))
            self.now += 200
        return out

    def connect(self, info: ev.NumberInfo, tariff: Tariff, credit: int) -> list[cmd.Command]:
        """Start an advisor call and run it up to the bridge; return the commands on answer."""
        self.start()
        self.send(info)
        self.send(ev.RatingReady(tariff, 7, CallerClass.FIXED, credit))
        self.send(ev.Reserved(42))
        self.played()
        dial = self.one(cmd.Dial)
        self.now += 5_000
        return self.send(ev.AdvisorAnswered(dial.channel, self.now))
