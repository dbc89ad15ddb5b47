"""``GET /v1/advisors``: a token reads its own project's advisors with their live state, as the
OpenAPI document describes them."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
from sqlalchemy import update

from cards.clock import utcnow
from cards.db import Database
from cards.models import Advisor
from cards.services import advisors, projects, reports
from pbx_engine.api.openapi_doc import OPENAPI
from rating import Increments
from testbed.astro import SECRET
from tests.api.test_openapi_conformance import resolved
from tests.support.api_client import Server

SCHEMA = resolved(json.loads(OPENAPI.read_text())["components"]["schemas"]["Advisor"])


async def test_each_live_state_is_read_by_its_own_project_only(api: Server, db: Database) -> None:
    await projects.set_tariff(db, "astro", "astrologie", increments=Increments(60, 1),
                              rates={"fixed": 29_900})  # fmt: skip
    for name in ("Anna", "Ben", "Cleo", "Dora", "Emil"):
        own = "astrologie" if name == "Cleo" else None
        await advisors.add_advisor(db, "astro", name, f"PJSIP/{name.lower()}", secret=SECRET,
                                   tariff=own)  # fmt: skip
    await advisors.add_advisor(db, "other", "Olga", "PJSIP/olga", secret=b"x" * 20)
    later = utcnow() + timedelta(minutes=5)
    async with db.transaction() as session:
        for name, values in {
            "Ben": {"logged_in": False},
            "Cleo": {"state": "ringing", "call_id": "c1"},
            "Dora": {"state": "talking", "call_id": "c2"},
            "Emil": {"ready_at": later},
        }.items():
            await session.execute(update(Advisor).where(Advisor.name == name).values(**values))
    status, body = await api.call("GET", "/v1/advisors", api.read)
    assert status == 200
    for item in body:
        jsonschema.validate(item, SCHEMA)
    assert [(a["name"], a["state"]) for a in body] == [
        ("Anna", "available"),
        ("Ben", "logged_out"),
        ("Cleo", "ringing"),
        ("Dora", "talking"),
        ("Emil", "wrap_up"),
    ]
    assert [a["tariff"] for a in body] == [None, None, "astrologie", None, None]
    status, other = await api.call("GET", "/v1/advisors", api.other)
    assert (status, [a["name"] for a in other]) == (200, ["Olga"])
    assert (await api.call("GET", "/v1/advisors", None))[0] == 401


async def test_an_advisor_logs_out_and_in_with_a_write_token(api: Server, db: Database) -> None:
    await advisors.add_advisor(db, "astro", "Anna", "PJSIP/anna", secret=SECRET)
    status, body = await api.call("POST", "/v1/advisors/Anna/logout", api.write)
    assert (status, body["state"]) == (200, "logged_out")
    jsonschema.validate(body, SCHEMA)
    assert (await api.call("POST", "/v1/advisors/Anna/login", api.read))[0] == 403
    assert (await api.call("POST", "/v1/advisors/Anna/login", api.other))[0] == 404
    assert (await api.call("POST", "/v1/advisors/Zoe/login", api.write))[0] == 404
    status, body = await api.call("POST", "/v1/advisors/%20Anna/login", api.write)
    assert (status, body["name"], body["state"], body["tariff"]) == (200, "Anna", "available", None)
    history = await reports.history(db, project_ref="astro")
    assert [(h.action, h.actor) for h in history if h.action.startswith("advisor_log")] == [
        ("advisor_logout", "api token 1"),
        ("advisor_login", "api token 1"),
    ]
