"""Who sent a request to the one HTTP listener (the API and the pay pages alike): the peer, or
behind the trusted reverse proxy (``[api] trusted_proxies``) the client that proxy names."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from pbx_engine.allowlist import Allowlist

TRUSTED_PROXIES = web.AppKey("trusted_proxies", Allowlist)
"""Set on the listener's application when a proxy is trusted; the pay pages' sub-application
reads it through ``config_dict``, so one setting serves both halves."""
MAX_CHARS = 64
"""Longer than any address (IPv6 with a zone): such an entry is not read at all."""


def client_of(request: web.Request) -> str:
    """The peer; from a trusted proxy, the last X-Forwarded-For entry (the one that proxy
    added; earlier ones are whatever the client sent). No header, or an entry that is not an
    address, leaves the peer: never a key made of whatever text reached the header. An
    IPv4-mapped IPv6 address is the IPv4 one, and a zone is dropped (one client, one name)."""
    peer = _address(request.remote or "") or request.remote or "unknown"
    trusted = request.config_dict.get(TRUSTED_PROXIES)
    if trusted is None or not trusted.permits(peer):
        return peer
    # All header lines: a proxy may add its own line after one the client sent (HAProxy).
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", ()))
    last = forwarded.rsplit(",", 1)[-1].strip()
    if len(last) > MAX_CHARS:
        return peer
    return _address(last) or peer


def limit_key(client: str) -> str:
    """What a per-client limit counts: an IPv6 client by its /64 (one subscriber's prefix, so
    rotating addresses inside it neither escapes a limit nor floods the limiter's table), any
    other by its address."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client


def _address(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
