"""The OpenAPI document is worth generating a client from (issue 25 item 7): an operationId each,
examples its own schemas accept, links, every field the answers carry, and the server the
config names."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from cards.db import Database
from pbx_engine.api.openapi_doc import OPENAPI, server_url
from testbed.postgres import free_port
from tests.api.conftest import EUR
from tests.api.test_openapi_conformance import resolved
from tests.engine.test_cardengine_run import CARDENGINE, _astro_database, _config, _env
from tests.support.api_client import Server
from tests.support.settlements import bill_call

DOC: dict[str, Any] = json.loads(OPENAPI.read_text())
OPERATIONS = [
    (path, method, op) for path, ops in DOC["paths"].items() for method, op in ops.items()
]


def test_every_operation_has_a_unique_operation_id() -> None:
    """Finding: no operationId (a generated client names its methods by them)."""
    ids = [op.get("operationId") for _, _, op in OPERATIONS]
    assert None not in ids and len(set(ids)) == len(ids)


def test_every_json_body_has_an_example_its_schema_accepts() -> None:
    """Finding: no examples. Each request body and each 2xx JSON answer shows one, valid."""
    shown = 0
    for path, method, op in OPERATIONS:
        media = [op.get("requestBody", {}).get("content", {}).get("application/json")]
        media += [
            answer.get("content", {}).get("application/json")
            for status, answer in op["responses"].items()
            if status.startswith("2") and "$ref" not in answer
        ]
        for one in filter(None, media):
            if "schema" in one and path not in ("/v1/openapi.json", "/health"):
                assert "example" in one, (method, path)
                jsonschema.validate(one["example"], resolved(one["schema"]))
                shown += 1
    assert shown >= 20


def test_links_name_operations_and_parameters_that_exist() -> None:
    """The stateful walk (test_stateful_links.py) follows these: each names a real operation
    and only parameters that operation has."""
    by_id = {op["operationId"]: op for _, _, op in OPERATIONS}
    links = [
        link
        for _, _, op in OPERATIONS
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    assert len(links) >= 15
    for link in links:
        names = {p["name"] for p in resolved(by_id[link["operationId"]]).get("parameters", [])}
        assert set(link["parameters"]) <= names, link


async def test_every_field_an_answer_carries_is_documented(api: Server, db: Database) -> None:
    """Finding: the document omitted ``charge_start_at``; now also the new ids: each answer's
    keys are exactly its schema's properties."""
    schemas = DOC["components"]["schemas"]
    await bill_call(db, api.serial, "call-1", 60, dialed="+498912345671")
    _, moved = await api.call(
        "POST", f"/v1/cards/{api.serial}/topups", api.write, {"amount": 15 * EUR},
        **{"Idempotency-Key": "doc-1"},
    )  # fmt: skip
    answers = {
        "Topup": moved,
        "Entry": moved["entries"][0],
        "Card": moved["card"],
        "CallPage": (await api.call("GET", "/v1/calls", api.read))[1],
        "EntryPage": (await api.call("GET", f"/v1/cards/{api.serial}/transactions", api.read))[1],
        "CardPage": (await api.call("GET", "/v1/cards", api.read))[1],
    }
    answers["Call"] = answers["CallPage"]["items"][0]
    answers["CardItem"] = answers["CardPage"]["items"][0]
    for name, answer in answers.items():
        assert set(answer) == set(schemas[name]["properties"]), name
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
        jsonschema.validate(answer, resolved(schemas[name]))


@pytest.mark.parametrize(
    ("public", "host", "url"),
    [
        ("https://cards.example.com/", "127.0.0.1", "https://cards.example.com"),
        (None, "10.1.2.3", "http://10.1.2.3:8091"),
        (None, "::1", "http://[::1]:8091"),
        (None, "api.internal", "http://api.internal:8091"),
        (None, "0.0.0.0", ""),  # a wildcard: the host the client asked is the answer
    ],
)
def test_the_server_is_the_configured_one(public: str | None, host: str, url: str) -> None:
    assert server_url(public, host, 8091) == url


async def test_the_served_document_names_the_configured_server(tmp_path: Path) -> None:
    """Finding: ``servers`` was hard-coded to 127.0.0.1:8090. A real ``cardengine`` with
    ``MINUTECARD_API_PUBLIC_URL`` serves a document naming that URL."""
    url = await _astro_database(tmp_path)
    port = free_port()
    env = {
        **_env(url, tmp_path),
        "MINUTECARD_API_PORT": str(port),
        "MINUTECARD_API_PUBLIC_URL": "https://cards.example.com",
    }
    config = _config(tmp_path, f"http://127.0.0.1:{free_port()}")
    proc = await asyncio.create_subprocess_exec(
        CARDENGINE, "run", "--config", str(config), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/v1/openapi.json") as resp:
                        doc = await resp.json()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the API never listened")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    assert doc["servers"] == [{"url": "https://cards.example.com"}]
    assert "8090" not in json.dumps(doc)


async def test_without_a_public_url_the_document_names_the_host_asked(api: Server) -> None:
    doc = (await api.call("GET", "/v1/openapi.json", None))[1]
    assert doc["servers"] == [{"url": api.url}]
