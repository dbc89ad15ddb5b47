"""ARI events → machine events: each with Asterisk's own stamp (on the engine's clock) and
cause, routed to the call that owns the channel or playback. No policy lives here."""

from __future__ import annotations

from dataclasses import dataclass

from cards.services.routing import normalise_caller
from pbx_engine.adapter.registry import Registry
from pbx_engine.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    DtmfReceived,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallSetup
from pbx_engine.clock import Clock, from_wall

ADVISOR_ARG = "advisor"
"""First app argument of an originated advisor leg; the second is the call id."""


@dataclass(frozen=True)
class NewCall:
    setup: CallSetup
    started: ev.Started


@dataclass(frozen=True)
class Routed:
    call_id: str
    event: ev.Event


@dataclass(frozen=True)
class Stray:
    """An advisor leg whose call is gone: hang it up."""

    channel: str


class Translator:
    def __init__(
        self, registry: Registry, clock: Clock, caller_format: str, checkpoint_ms: int
    ) -> None:
        self.registry, self.clock = registry, clock
        self.caller_format, self.checkpoint_ms = caller_format, checkpoint_ms

    def translate(self, event: AriEvent) -> NewCall | Routed | Stray | None:
        at = from_wall(self.clock, event.at_wall_ms)
        if isinstance(event, StasisStart):
            return self._stasis_start(event, at)
        if isinstance(event, PlaybackFinished):
            owner = self.registry.playbacks.pop(event.playback_id, None)
            return (
                None if owner is None else Routed(owner, ev.PlaybackFinished(event.playback_id, at))
            )
        channel = event.channel.id
        owner = self.registry.channels.get(channel)
        if owner is None:
            return None
        match event:
            case DtmfReceived():
                return Routed(owner, ev.Digit(channel, event.digit, at))
            case ChannelEnteredBridge():
                return Routed(owner, ev.EnteredBridge(channel, event.bridge_id, at))
            case ChannelHangupRequest() | ChannelDestroyed():
                return Routed(owner, ev.Hangup(channel, at, event.cause))
            case StasisEnd():
                return Routed(owner, ev.Hangup(channel, at))
        return None

    def _stasis_start(self, event: StasisStart, at: int) -> NewCall | Routed | Stray:
        channel = event.channel
        if event.args[:1] == (ADVISOR_ARG,) and len(event.args) > 1:
            call_id = event.args[1]
            if self.registry.channels.get(channel.id) != call_id:
                return Stray(channel.id)
            return Routed(call_id, ev.AdvisorAnswered(channel.id, at))
        dialed = event.args[0] if event.args else channel.exten
        setup = CallSetup(
            call_id=channel.id,
            channel=channel.id,
            dialed=dialed,
            caller=normalise_caller(channel.caller_number, self.caller_format),
            checkpoint_ms=self.checkpoint_ms,
        )
        self.registry.own_channel(channel.id, setup.call_id)
        return NewCall(setup, ev.Started(at))
