"""Hypothesis over the served OpenAPI document (what schemathesis does, in-process): for every
operation, requests built from its parameters and request schema — valid ones from the schema,
and any JSON at all — with any token; every answer has a status the document lists for that
operation and a body its schema accepts, and a refused request moves no money."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbx_engine.api.openapi_doc import OPENAPI
from tests.support.api_client import Server

DOC: dict[str, Any] = json.loads(OPENAPI.read_text())
OPERATIONS = sorted((path, method) for path, ops in DOC["paths"].items() for method in ops)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
WORDS = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=24)


def resolved(node: Any) -> Any:
    """The schema with every ``$ref`` inlined and OpenAPI 3.0's ``nullable`` as JSON Schema."""
    if isinstance(node, list):
        return [resolved(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolved(target)
    out = {key: resolved(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def valid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema accepts, for the kinds our request schemas use."""
    kind = schema["type"]
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength"))
    assert kind == "object", f"no strategy for {kind}"
    props = {name: valid(sub) for name, sub in schema["properties"].items()}
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {n: s for n, s in props.items() if n in required},
        optional={n: s for n, s in props.items() if n not in required},
    )


def operation(path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = resolved(DOC["paths"][path][method])
    return op


@st.composite
def requests(draw: st.DrawFn, api: Server) -> tuple[str, str, str, Any, dict[str, str], str]:
    path, method = draw(st.sampled_from(OPERATIONS))
    op = operation(path, method)
    url, query, headers = path, {}, {}
    for param in op.get("parameters", []):
        name, where = param["name"], param["in"]
        if where == "path":
            value = draw(st.sampled_from([api.serial, api.other_serial, "+4930123456"]) | WORDS)
            url = url.replace(f"{{{name}}}", quote(value, safe=""))
        elif where == "query" and draw(st.booleans()):
            query[name] = draw(st.sampled_from(["2026-01-01", api.serial, "030123456"]) | WORDS)
        elif where == "header" and draw(st.integers(0, 9)) > 0:
            headers[name] = draw(st.text(st.characters(min_codepoint=33, max_codepoint=126)))
    body = None
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = draw(valid(schema) | ANY_JSON)
    token = draw(st.sampled_from([api.write, api.read, api.other, ""]))
    return method, url + (f"?{urlencode(query)}" if query else ""), path, body, headers, token


def documented(path: str, method: str, status: int) -> dict[str, Any] | None:
    """The response schema the document gives this status (None: the answer is not JSON)."""
    responses = operation(path, method)["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, undocumented"
    content = responses[str(status)].get("content", {})
    media = content.get("application/json") or content.get("application/problem+json", {})
    found: dict[str, Any] | None = media.get("schema")
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_every_answer_is_one_the_document_gives(api: Server, data: st.DataObject) -> None:
    method, url, path, body, headers, token = data.draw(requests(api))
    before = (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"]
    status, answer = await api.call(method.upper(), url, token or None, body, **headers)
    schema = documented(path, method, status)
    if schema is not None:
        jsonschema.validate(answer, schema)
    after = (await api.call("GET", f"/v1/cards/{api.serial}", api.read))[1]["balance"]
    if status >= 300:
        assert after == before, (method, url, body, answer)
