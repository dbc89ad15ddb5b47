"""Every transition of a call, in one table.

Theory of operation
-------------------
A call is a state machine with no I/O (the sans-IO style of h11's ``_state.py``). The adapter
feeds it events — from Asterisk (with Asterisk's own stamps and causes), from the cards
services (answers to the commands it emitted), from its timers — and runs the commands it
emits, in order. A command that fails comes back as ``CommandFailed`` and the state decides.

``TABLE[state][event type]`` names the handler and every state it may lead to; a handler
that answers a state outside that set is a bug and raises ``TransitionError``. Entering a
state (a change, or an explicit ``Reenter``) runs that state's entry action from ``ENTRY``:
entry actions belong to the state that is entered. ``IGNORED[state]`` lists the events a
state expects and drops on purpose (a late digit, the finish of a prompt it stopped). Any
other event is unexpected: the machine logs it at warning with the call id, counts it and
stays where it is (``UnexpectedEvent``), so a surprise never ends or bills a call.

The flows (docs/engine.md "The call machine" has the picture)::

    ARRIVING → LOOKING_UP → COLLECTING_PIN ⇄ ACTIVATING → ANNOUNCING_BALANCE → OFFERING_ADVISOR
                  ↑  │             (card number)                                   │ press 1
                  │  │                                                             │
                  └──┼─────────────────────────────────────────────────────────────┘
                     ↓ (advisor number, card bound or activated inline)
           AUTHORIZING → ANNOUNCING → DIALING → [RATING_ADVISOR] → BRIDGING → [ANNOUNCING_TARIFF]
                              │         ↑ ↓                                       ↓
                              └─→ [CHOOSING] → HUNTING (whom next)       TALKING ⇄ WARNED
    Refusals and failures go to CLOSING (a last prompt, then hang up); the end of a call that
    talked goes to FAREWELL (the caller hears why) or straight to DONE (the caller is gone).
    A login number (issue 23) collects a PIN too; ACTIVATING then logs its advisor in or out.
    Money: AUTHORIZING holds; the one Settle is emitted where the money outcome is final.
    CHOOSING (a group that lets callers choose) takes an advisor's extension and #.
    The advisor leg is a list of attempts (``attempts.Hunt``): a failed attempt (busy, no
    answer within the ring timeout, congestion, unreachable) goes back to HUNTING until the
    group or the overall timeout is exhausted; ring time is never charged.
    RATING_ADVISOR: the advisor who answered has a tariff of its own; the hold is rated anew
    with it (and the caller hears what it affords) before the bridge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pbx_engine.call import events as ev
from pbx_engine.call import flow_advisor as adv
from pbx_engine.call import flow_common as com
from pbx_engine.call import flow_hunt as hunt
from pbx_engine.call import flow_pin as pin
from pbx_engine.call import flow_rating as rate
from pbx_engine.call.context import CallContext
from pbx_engine.call.types import Next
from pbx_engine.call.types import State as S

Handler = Callable[[CallContext, Any], Next]
"""A row's handler once in the table; ``on`` checked it against the row's event type."""


class TransitionError(RuntimeError):
    """A handler answered a state its table row does not allow: a bug in the machine."""


@dataclass(frozen=True)
class UnexpectedEvent:
    """An event no row handles or ignores: logged at warning, counted, the state kept."""

    call_id: str
    state: S
    event: ev.Event


@dataclass(frozen=True)
class Edge:
    handler: Handler
    targets: frozenset[S]


Rows = dict[type[ev.Event], Edge]
E = TypeVar("E", bound=ev.Event)


def on(kind: type[E], handler: Callable[[CallContext, E], Next], *targets: S) -> Rows:
    """One row of a state: the event type, its handler and the states it may lead to. The
    handler is typed by the event it is keyed by, so mypy rejects a row whose handler takes
    another event (``tests/engine/test_table_types.py`` holds it to that)."""
    # type[E] of a union-bound E is no type[ev.Event] to mypy, though every E is one.
    return {cast("type[ev.Event]", kind): Edge(handler, frozenset(targets))}


_UNBRIDGED_END = (S.DONE, S.FAREWELL)
_ENDS: Rows = {**on(ev.Shutdown, com.on_shutdown, S.DONE)}


def _prewait(state: S) -> Rows:
    """Hang-ups and shutdown of a call that has not talked."""
    return {
        **on(ev.Hangup, com.on_hangup_unbridged, state, *_UNBRIDGED_END),
        **_ENDS,
    }


def _credit(state: S) -> Rows:
    """A hold exists but charging has not started: the hold follows the credit, up or down."""
    return {
        **on(ev.CreditChanged, adv.on_credit_changed, state),
        **on(ev.HoldMoved, adv.on_hold_moved_before_talk, state),
    }


def _talk(state: S) -> Rows:
    return {
        **on(ev.TimerFired, adv.on_talking_timer, state, S.WARNED, S.FAREWELL, S.DONE),
        **on(ev.Hangup, adv.on_talking_hangup, state, S.FAREWELL, S.DONE),
        **on(ev.CreditChanged, adv.on_credit_changed, state),
        **on(ev.HoldMoved, adv.on_hold_moved, state, S.TALKING),
        **on(ev.CommandFailed, com.stay, state),
        **on(ev.Shutdown, adv.on_talking_shutdown, S.DONE),
    }


TABLE: dict[S, Rows] = {
    S.ARRIVING: {
        **on(ev.Started, com.on_started, S.CLOSING, S.LOOKING_UP),
        **_prewait(S.ARRIVING),
    },
    S.LOOKING_UP: {
        **on(ev.NumberInfo, com.on_number_info, S.CLOSING, S.COLLECTING_PIN, S.AUTHORIZING),
        **on(ev.CommandFailed, com.on_service_failed, S.LOOKING_UP, S.CLOSING),
        **_prewait(S.LOOKING_UP),
    },
    S.COLLECTING_PIN: {
        **on(ev.PlaybackFinished, pin.on_pin_prompt_done, S.COLLECTING_PIN),
        **on(ev.Digit, pin.on_pin_digit, S.COLLECTING_PIN, S.ACTIVATING, S.CLOSING),
        **on(ev.TimerFired, pin.on_pin_timeout, S.COLLECTING_PIN, S.ACTIVATING, S.CLOSING),
        **on(ev.CommandFailed, pin.on_pin_prompt_failed, S.COLLECTING_PIN),
        **_prewait(S.COLLECTING_PIN),
    },
    S.ACTIVATING: {
        **on(
            ev.ActivationDone,
            pin.on_activation_done,
            S.CLOSING,
            S.COLLECTING_PIN,
            S.AUTHORIZING,
            S.ANNOUNCING_BALANCE,
        ),
        **on(ev.LoginToggled, pin.on_login_toggled, S.CLOSING, S.COLLECTING_PIN),
        **on(ev.CommandFailed, com.on_service_failed, S.ACTIVATING, S.CLOSING),
        **_prewait(S.ACTIVATING),
    },
    S.ANNOUNCING_BALANCE: {
        **on(
            ev.PlaybackFinished,
            pin.on_balance_announced,
            S.ANNOUNCING_BALANCE,
            S.CLOSING,
            S.OFFERING_ADVISOR,
        ),
        **on(
            ev.CommandFailed,
            pin.on_balance_play_failed,
            S.ANNOUNCING_BALANCE,
            S.CLOSING,
            S.OFFERING_ADVISOR,
        ),
        **_prewait(S.ANNOUNCING_BALANCE),
    },
    S.OFFERING_ADVISOR: {
        **on(ev.PlaybackFinished, pin.on_offer_prompt_done, S.OFFERING_ADVISOR),
        **on(ev.Digit, pin.on_offer_digit, S.OFFERING_ADVISOR, S.LOOKING_UP),
        **on(ev.TimerFired, pin.on_offer_timeout, S.OFFERING_ADVISOR, S.CLOSING),
        **on(ev.CommandFailed, pin.on_offer_play_failed, S.OFFERING_ADVISOR),
        **_prewait(S.OFFERING_ADVISOR),
    },
    S.AUTHORIZING: {
        **on(ev.Authorized, adv.on_authorized, S.CLOSING, S.ANNOUNCING),
        **on(ev.CommandFailed, com.on_service_failed, S.AUTHORIZING, S.CLOSING),
        **_prewait(S.AUTHORIZING),
    },
    S.ANNOUNCING: {
        **on(ev.PlaybackFinished, adv.on_announced, S.ANNOUNCING, S.CHOOSING, S.HUNTING, S.DIALING),
        **on(
            ev.CommandFailed, adv.on_announce_failed, S.ANNOUNCING, S.CHOOSING, S.HUNTING, S.DIALING
        ),
        **_credit(S.ANNOUNCING),
        **_prewait(S.ANNOUNCING),
    },
    S.CHOOSING: {
        **on(ev.PlaybackFinished, hunt.on_choice_prompt_done, S.CHOOSING),
        **on(ev.Digit, hunt.on_choice_digit, S.CHOOSING, S.HUNTING),
        **on(ev.TimerFired, hunt.on_choice_timeout, S.CHOOSING, S.HUNTING),
        **on(ev.CommandFailed, hunt.on_choice_play_failed, S.CHOOSING),
        **_credit(S.CHOOSING),
        **_prewait(S.CHOOSING),
    },
    S.HUNTING: {
        **on(ev.AdvisorsOffered, hunt.on_offered, S.DIALING, S.CLOSING),
        **on(ev.CommandFailed, hunt.on_claim_failed, S.HUNTING, S.CLOSING),
        **_credit(S.HUNTING),
        **_prewait(S.HUNTING),
    },
    S.DIALING: {
        **on(ev.AdvisorAnswered, hunt.on_advisor_answered, S.DIALING, S.RATING_ADVISOR, S.BRIDGING),
        **on(ev.Hangup, hunt.on_dialing_hangup, S.DIALING, S.HUNTING, S.DONE, S.CLOSING),
        **on(ev.CommandFailed, hunt.on_dial_failed, S.DIALING, S.HUNTING, S.CLOSING),
        **on(ev.Shutdown, hunt.on_dialing_shutdown, S.DONE),
        **_credit(S.DIALING),
    },
    S.RATING_ADVISOR: {
        **on(ev.AdvisorRated, rate.on_advisor_rated, S.RATING_ADVISOR, S.BRIDGING, S.CLOSING),
        **on(ev.PlaybackFinished, rate.on_rating_announced, S.RATING_ADVISOR, S.BRIDGING),
        **on(ev.CommandFailed, rate.on_rating_failed, S.RATING_ADVISOR, S.BRIDGING, S.CLOSING),
        **_credit(S.RATING_ADVISOR),
        **_prewait(S.RATING_ADVISOR),
    },
    S.BRIDGING: {
        **on(
            ev.EnteredBridge,
            adv.on_entered_bridge,
            S.BRIDGING,
            S.ANNOUNCING_TARIFF,
            S.TALKING,
            S.WARNED,
        ),
        **on(ev.CommandFailed, adv.on_bridge_failed, S.BRIDGING, S.FAREWELL),
        **_credit(S.BRIDGING),
        **_prewait(S.BRIDGING),
    },
    S.ANNOUNCING_TARIFF: {
        **on(
            ev.PlaybackFinished, adv.on_tariff_announced, S.ANNOUNCING_TARIFF, S.TALKING, S.WARNED
        ),
        **on(ev.CommandFailed, adv.on_tariff_play_failed, S.ANNOUNCING_TARIFF, S.TALKING, S.WARNED),
        **_credit(S.ANNOUNCING_TARIFF),
        **_prewait(S.ANNOUNCING_TARIFF),
    },
    S.TALKING: _talk(S.TALKING),
    S.WARNED: _talk(S.WARNED),
    S.FAREWELL: {
        **on(ev.PlaybackFinished, com.on_farewell_prompt_done, S.FAREWELL, S.DONE),
        **on(ev.CommandFailed, com.on_farewell_play_failed, S.FAREWELL, S.DONE),
        **on(ev.Hangup, com.on_farewell_hangup, S.FAREWELL, S.DONE),
        **on(ev.TimerFired, com.on_farewell_guard, S.FAREWELL, S.DONE),
        **on(ev.AdvisorAnswered, com.on_late_advisor, S.FAREWELL),
        **on(ev.Shutdown, com.on_farewell_shutdown, S.DONE),
    },
    S.CLOSING: {
        **on(ev.PlaybackFinished, com.on_closing_prompt_done, S.CLOSING, S.DONE),
        **on(ev.CommandFailed, com.on_closing_play_failed, S.CLOSING, S.DONE),
        **on(ev.Hangup, com.on_closing_hangup, S.CLOSING, S.DONE),
        **on(ev.AdvisorAnswered, com.on_late_advisor, S.CLOSING),
        **_ENDS,
    },
    S.DONE: {
        **on(ev.AdvisorAnswered, com.on_late_advisor, S.DONE),
        **on(ev.AdvisorsOffered, hunt.on_late_offer, S.DONE),
    },
}

ENTRY: dict[S, Callable[[CallContext], None]] = {
    S.LOOKING_UP: com.enter_looking_up,
    S.COLLECTING_PIN: pin.enter_collecting_pin,
    S.ACTIVATING: pin.enter_activating,
    S.ANNOUNCING_BALANCE: pin.enter_announcing_balance,
    S.OFFERING_ADVISOR: pin.enter_offering_advisor,
    S.AUTHORIZING: adv.enter_authorizing,
    S.ANNOUNCING: adv.enter_announcing,
    S.CHOOSING: hunt.enter_choosing,
    S.HUNTING: hunt.enter_hunting,
    S.DIALING: hunt.enter_dialing,
    S.RATING_ADVISOR: rate.enter_rating_advisor,
    S.BRIDGING: adv.enter_bridging,
    S.ANNOUNCING_TARIFF: adv.enter_announcing_tariff,
    S.TALKING: adv.enter_talking,
    S.WARNED: adv.enter_warned,
    S.FAREWELL: com.enter_farewell,
    S.CLOSING: com.enter_closing,
    S.DONE: com.enter_done,
}
"""ARRIVING has no entry action: the call is born in it."""

_LATE = frozenset({ev.Digit, ev.PlaybackFinished, ev.TimerFired})
"""A digit typed over a prompt, the finish of a prompt that was stopped or replaced, a timer
that fired while its cancel was on the way."""
_MONEY_NEWS = frozenset({ev.CreditChanged, ev.HoldMoved})
"""Credit news for a call that has no hold yet, or no longer needs one."""

IGNORED: dict[S, frozenset[type[ev.Event]]] = {
    S.ARRIVING: frozenset(),
    S.LOOKING_UP: _LATE | _MONEY_NEWS,
    S.COLLECTING_PIN: frozenset(),
    S.ACTIVATING: _LATE,
    S.ANNOUNCING_BALANCE: frozenset({ev.Digit, ev.TimerFired}),
    S.OFFERING_ADVISOR: frozenset(),
    S.AUTHORIZING: _LATE | _MONEY_NEWS,
    S.ANNOUNCING: frozenset({ev.Digit, ev.TimerFired}),
    S.CHOOSING: frozenset(),
    S.HUNTING: _LATE,
    S.DIALING: _LATE,
    S.RATING_ADVISOR: frozenset({ev.Digit, ev.TimerFired, ev.AdvisorAnswered}),
    S.BRIDGING: _LATE | {ev.AdvisorAnswered},
    S.ANNOUNCING_TARIFF: frozenset({ev.Digit, ev.TimerFired, ev.EnteredBridge}),
    S.TALKING: frozenset({ev.Digit, ev.PlaybackFinished, ev.EnteredBridge}),
    S.WARNED: frozenset({ev.Digit, ev.PlaybackFinished, ev.EnteredBridge}),
    S.FAREWELL: _MONEY_NEWS | {ev.Digit, ev.EnteredBridge},
    S.CLOSING: _MONEY_NEWS | {ev.Digit, ev.TimerFired, ev.EnteredBridge},
    S.DONE: frozenset(ev.EVENT_TYPES) - {ev.AdvisorAnswered, ev.AdvisorsOffered},
}
