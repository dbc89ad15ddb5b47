"""The FastAGI routes: ``authorize`` (before Dial), ``activate`` (the PIN the dialplan read) and
``settle`` (from the ``h`` extension). They answer in channel variables ``MC_*``; the money goes
through the same ``cards`` services and settler as ARI mode."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from panoramisk.fast_agi import Request

from cards.db import Database
from cards.domain import NumberRole
from cards.errors import CardsError
from cards.journal import STORAGE_ERRORS
from cards.models import Number
from cards.services import activation, calls, routing
from pbx_engine.agi.app import Route
from pbx_engine.settler import Settler
from prompts.catalogue import PromptId

log = logging.getLogger("minutecard.agi")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class AgiRoutes:
    db: Database
    settler: Settler
    pin_secret: bytes
    caller_format: str = "national"

    def table(self) -> dict[str, Route]:
        return {"authorize": self.authorize, "activate": self.activate, "settle": self.settle}

    async def authorize(self, request: Request) -> None:
        """MC_RESULT=ok with MC_LIMIT_MS, MC_WARN_MS, MC_HOLD, MC_DEST, MC_LANG; else MC_RESULT
        names the refusal and MC_PROMPT the prompt to play."""
        h = request.headers
        caller = routing.normalise_caller(h.get("agi_callerid"), self.caller_format)
        lang = routing.prompt_language(caller)
        try:
            answer = await self._authorize(caller, h.get("agi_extension", ""), h["agi_uniqueid"])
        except (CardsError, KeyError, *STORAGE_ERRORS) as exc:
            log.error("AGI authorize %s: %s", h.get("agi_uniqueid"), exc)
            answer = {"MC_RESULT": "error", "MC_PROMPT": PromptId.SERVICE_UNAVAILABLE}
        answer.setdefault("MC_LANG", lang)
        await _set(request, answer)

    async def _authorize(self, caller: str | None, dialed: str, call_id: str) -> dict[str, str]:
        if caller is None:
            return {"MC_RESULT": "anonymous", "MC_PROMPT": PromptId.CLIR_REQUIRED}
        found = await routing.route(self.db, dialed, caller)
        if (
            found.number is None
            or found.number.role != NumberRole.ADVISOR
            or found.settings is None
        ):
            return {"MC_RESULT": "not_routed", "MC_PROMPT": PromptId.NUMBER_NOT_REACHABLE}
        if not found.accepts_caller:
            return {"MC_RESULT": "caller_refused", "MC_PROMPT": PromptId.NUMBER_NOT_REACHABLE}
        base = {"MC_LANG": found.lang, "MC_PROJECT": str(found.number.project_id)}
        if found.closed:  # outside the opening hours (issue 23): nothing is held
            return base | {"MC_RESULT": "closed", "MC_PROMPT": PromptId.CLOSED}
        if found.card_id is None:
            return base | {"MC_RESULT": "not_activated", "MC_PROMPT": PromptId.NOT_ACTIVATED}
        auth = await calls.authorize(
            self.db, card_id=found.card_id, dialed=found.number.e164, caller=caller, call_id=call_id
        )
        if auth.hold_id is None:
            return base | {"MC_RESULT": auth.refusal or "refused", "MC_PROMPT": PromptId.NO_CREDIT}
        limit_ms = auth.affordable_s * 1000
        warn_ms = min(found.settings.warning_lead * 1000, limit_ms)
        log.info("AGI call %s: hold %s, %d s affordable", call_id, auth.hold_id, auth.affordable_s)
        return base | {
            "MC_RESULT": "ok",
            "MC_LIMIT_MS": str(limit_ms),
            "MC_WARN_MS": str(warn_ms),
            "MC_HOLD": str(auth.hold_id),
            "MC_DEST": found.number.destination or "",
            "MC_CARD": str(found.card_id),
            "MC_CALLER": caller,
            "MC_DIALED": found.number.e164,
            "MC_AUTH_AT": str(time.time_ns() // 1_000_000),
        }

    async def activate(self, request: Request) -> None:
        """On a card number: without digits it sets MC_LANG (the caller's); with the digits the
        dialplan read (``agi_arg_1``) it sets MC_ACTIVATION (activated, invalid, locked, …)."""
        h = request.headers
        caller = routing.normalise_caller(h.get("agi_callerid"), self.caller_format)
        digits = h.get("agi_arg_1", "")
        answer = {"MC_LANG": routing.prompt_language(caller)}
        try:
            found = await routing.route(self.db, h.get("agi_extension", ""), caller or "")
            if found.number is not None:
                answer["MC_LANG"] = found.lang
            if digits:
                answer["MC_ACTIVATION"] = await self._activation(caller, found.number, digits)
        except (CardsError, *STORAGE_ERRORS) as exc:
            log.error("AGI activate: %s", exc)
            answer["MC_ACTIVATION"] = "error"
        await _set(request, answer)

    async def _activation(self, caller: str | None, number: Number | None, digits: str) -> str:
        if caller is None or number is None or number.role != NumberRole.CARD:
            return "refused"
        done = await activation.activate(
            self.db, number.project_id, caller, digits, secret=self.pin_secret
        )
        return str(done.status)

    async def settle(self, request: Request) -> None:
        """From the ``h`` extension: ``agi_arg_1..`` = MC_HOLD, ${ANSWEREDTIME_MS},
        ${DIALSTATUS}, MC_PROJECT, MC_CARD, MC_CALLER, MC_DIALED, MC_LIMIT_MS, MC_AUTH_AT. All
        the settlement needs comes with the request, so a database that is away costs nothing:
        the settler retries, then journals. Settling the same call again changes nothing."""
        h = request.headers
        args = [h.get(f"agi_arg_{i}", "") for i in range(1, 10)]
        hold, answered, status, project, card, caller, dialed, limit, auth_at = args
        if not hold.isdigit():
            return  # never authorized: nothing was held, nothing to bill
        if not all(v.isdigit() for v in (project, card, auth_at)):
            log.error("AGI settle of hold %s: the dialplan passed %r", hold, args)
            return
        answered_ms = int(answered) if answered.isdigit() else 0
        ended = datetime.now(UTC)
        talked_from = ended - timedelta(milliseconds=answered_ms) if answered_ms else None
        await self.settler.settle(
            calls.Settlement(
                call_id=h.get("agi_uniqueid", ""),
                hold_id=int(hold),
                talk_s=calls.dialplan_talk_s(answered_ms, int(limit) if limit.isdigit() else 0),
                project_id=int(project),
                caller=caller,
                dialed=dialed,
                arrived_at=EPOCH + timedelta(milliseconds=int(auth_at)),
                ended_at=ended,
                hangup_cause=f"dialstatus:{(status or 'unknown').lower()}",
                hangup_side="dialplan",
                card_id=int(card),
                answered_at=talked_from,
                charge_start_at=talked_from,
            )
        )


async def _set(request: Request, values: dict[str, str]) -> None:
    for name, value in values.items():
        await request.send_command(f'SET VARIABLE {name} "{value}"')
