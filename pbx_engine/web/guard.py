"""What every page answer carries and every form is checked for: security headers (CSP with the
configured frame-ancestors), cookie rules, the CSRF token, and clear pages instead of
tracebacks."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from cards.errors import CardsError, NotFound
from cards.journal import STORAGE_ERRORS
from pbx_engine.api.middleware import BODY_TOO_LARGE
from pbx_engine.web import i18n
from pbx_engine.web.settings import WebSettings

log = logging.getLogger("minutecard.web")
CSRF_COOKIE = "mc_csrf"
SETTINGS = web.AppKey("web_settings", WebSettings)
LANG = web.RequestKey("lang", str)
NONCE = web.RequestKey("csrf_nonce", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """A refusal shown to the caller as a page: its status and the text's key."""

    def __init__(self, status: int, key: str, retry_after: int | None = None) -> None:
        super().__init__(key)
        self.status, self.key, self.retry_after = status, key, retry_after


def headers(settings: WebSettings) -> dict[str, str]:
    """CSP's frame-ancestors lists the allowed operator sites ('none' when there are none);
    X-Frame-Options says DENY only then: it cannot name several origins, and a browser that
    knows CSP ignores it beside frame-ancestors anyway."""
    ancestors = " ".join(settings.frame_ancestors) or "'none'"
    out = {
        "Content-Security-Policy": (
            f"default-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if not settings.frame_ancestors:
        out["X-Frame-Options"] = "DENY"
    return out


def set_cookie(
    response: web.StreamResponse,
    settings: WebSettings,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    """HttpOnly always; Secure unless switched off for plain-http tests. A page framed by
    another site only gets its cookies back with SameSite=None (which needs Secure), kept
    Partitioned so the cookie lives only under that embedding site; otherwise SameSite=Lax."""
    # Written by hand: Python 3.11's http.cookies (under aiohttp's set_cookie) refuses the
    # Partitioned attribute. Values are URL-safe tokens and language codes.
    framed = bool(settings.frame_ancestors) and settings.secure_cookies
    parts = [f"{name}={value}", "Path=/pay", "HttpOnly"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if settings.secure_cookies:
        parts.append("Secure")
    parts.append("SameSite=None; Partitioned" if framed else "SameSite=Lax")
    response.headers.add("Set-Cookie", "; ".join(parts))


def csrf_token(settings: WebSettings, nonce: str) -> str:
    """The form's token: the cookie's nonce signed with the web secret (signed double submit: a
    foreign site can neither read the cookie nor make the signature)."""
    return hmac.new(settings.secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def check_csrf(request: web.Request, form: Any) -> None:
    settings = request.app[SETTINGS]
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not nonce or not hmac.compare_digest(sent, csrf_token(settings, nonce)):
        raise PageError(403, "forbidden")


def see_other(location: str) -> web.Response:
    """A redirect as a plain answer (the API's error middleware would turn a raised one into a
    JSON problem)."""
    return web.Response(status=303, headers={"Location": location})


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    request[LANG] = i18n.pick(request)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    fresh = not (nonce.isascii() and 20 <= len(nonce) <= 64)
    request[NONCE] = secrets.token_urlsafe(24) if fresh else nonce
    try:
        if request.get(BODY_TOO_LARGE):
            raise web.HTTPRequestEntityTooLarge(max_size=request.client_max_size, actual_size=0)
        response = await handler(request)
    except PageError as exc:
        response = error_page(request, exc.status, exc.key)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
    except web.HTTPException as exc:
        key = {404: "not_found_page", 405: "bad_request", 413: "bad_request"}.get(exc.status)
        response = error_page(request, exc.status, key or "bad_request")
        if exc.status == 413:
            response.force_close()  # the rest of the body is never read
    except NotFound:
        response = error_page(request, 404, "not_found_page")
    except CardsError:
        # A refusal of the money layer the page did not foresee: its message may carry what
        # the caller typed, so neither the page nor the log repeats it.
        response = error_page(request, 400, "bad_request")
    except STORAGE_ERRORS:
        response = error_page(request, 503, "error")
    except Exception as exc:
        log.error("pay page %s failed: %s", request.match_info.route.name, type(exc).__name__)
        response = error_page(request, 500, "error")
    response.headers.update(headers(settings))
    if fresh:
        set_cookie(response, settings, CSRF_COOKIE, request[NONCE])
    if request.query.get("lang") in i18n.LANGS:
        set_cookie(response, settings, i18n.LANG_COOKIE, request[LANG], max_age=31_536_000)
    return response


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    settings = request.app[SETTINGS]
    lang = request[LANG]
    other = "en" if lang == "de" else "de"
    base: dict[str, Any] = {
        "t": i18n.texts(lang),
        "lang": lang,
        "other_lang": other,
        "switch_url": request.rel_url.update_query(lang=other).path_qs,
        "site": settings,
        "csrf": csrf_token(settings, request[NONCE]),
        "money": lambda value, unit: i18n.amount(value, unit, lang),
        "whole": lambda value: i18n.number(value, lang),
        "local": i18n.local,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def error_page(request: web.Request, status: int, key: str) -> web.Response:
    project = request.match_info.get("project", "")
    return render(request, "error.html", {"message": key, "project": project}, status)
