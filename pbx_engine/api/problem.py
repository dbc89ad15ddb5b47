"""The one error format of the API: RFC 9457 problem details (``application/problem+json``) with
a stable ``code``, for the handlers, the middlewares and aiohttp's protocol layer alike."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip


def problem(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An RFC 9457 problem: ``type`` names the code, ``detail`` says it for people."""
    body = {
        "type": f"urn:minutecard:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": message,
        "code": code,
    }
    return web.json_response(body, status=status, content_type=PROBLEM, headers=headers)
