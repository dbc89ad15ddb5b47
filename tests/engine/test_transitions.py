"""Every (state, event type) pair of the call machine's table, walked."""

from __future__ import annotations

import pytest

from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.call.context import CallSetup
from pbx_engine.call.machine import Call
from pbx_engine.call.transitions import ENTRY, IGNORED, TABLE
from pbx_engine.call.types import ActivationStatus, State, TimerId

SAMPLES: dict[type[ev.Event], ev.Event] = {
    ev.Started: ev.Started(0),
    ev.NumberInfo: ev.NumberInfo(role=None),
    ev.Digit: ev.Digit("chan", "5", 0),
    ev.PlaybackFinished: ev.PlaybackFinished("elsewhere", 0),
    ev.ActivationDone: ev.ActivationDone(ActivationStatus.INVALID),
    ev.LoginToggled: ev.LoginToggled("invalid"),
    ev.Authorized: ev.Authorized(None, 0),
    ev.AdvisorsOffered: ev.AdvisorsOffered((), 20, 120, 0, 0),
    ev.AdvisorRated: ev.AdvisorRated(False, 0, 0),
    ev.AdvisorAnswered: ev.AdvisorAnswered("other-advisor", 0),
    ev.EnteredBridge: ev.EnteredBridge("chan", "other-bridge", 0),
    ev.Hangup: ev.Hangup("chan", 0),
    ev.TimerFired: ev.TimerFired(TimerId.PIN_TOTAL, 0),
    ev.CreditChanged: ev.CreditChanged(0),
    ev.HoldMoved: ev.HoldMoved(0, 0),
    ev.Shutdown: ev.Shutdown(0),
    ev.CommandFailed: ev.CommandFailed(cmd.Answer("chan"), "boom", 0),
}
PAIRS = [(s, k) for s in State for k in ev.EVENT_TYPES if k not in TABLE[s]]
"""The pairs no row handles; the handled ones are driven by the flow tests."""


def test_every_event_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("state", list(State))
def test_handled_and_ignored_never_overlap(state: State) -> None:
    assert not set(TABLE[state]) & IGNORED[state]


@pytest.mark.parametrize("state", [s for s in State if s is not State.DONE])
def test_hang_ups_and_shutdown_are_handled_in_every_live_state(state: State) -> None:
    assert ev.Hangup in TABLE[state]
    assert ev.Shutdown in TABLE[state]


def test_every_target_has_an_entry_and_every_state_is_reachable() -> None:
    targets = {t for row in TABLE.values() for edge in row.values() for t in edge.targets}
    assert targets <= set(ENTRY) | {State.ARRIVING}
    seen, todo = {State.ARRIVING}, [State.ARRIVING]
    while todo:
        for edge in TABLE[todo.pop()].values():
            for target in edge.targets - seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(State)


@pytest.mark.parametrize(("state", "kind"), PAIRS, ids=[f"{s}-{k.__name__}" for s, k in PAIRS])
def test_unhandled_events_are_ignored_on_purpose_or_counted(
    state: State, kind: type[ev.Event]
) -> None:
    call = Call(CallSetup("c1", "chan", "+498912345671", "+4930123456"))
    call.ctx.state = state
    assert call.handle(SAMPLES[kind]) == []
    assert call.state is state
    assert len(call.unexpected) == (0 if kind in IGNORED[state] else 1)
