"""How long and how much the API gives one client: idle and body timeouts, connections per
address, failed authentications before a pause, and how long shutdown waits for requests."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_engine.allowlist import Allowlist


@dataclass(frozen=True)
class Limits:
    idle_seconds: int = 15
    """An idle keep-alive connection, or one whose request headers are not complete, is closed
    after this long (aiohttp's keep-alive timer also runs from the connection's start)."""
    body_seconds: int = 10
    """A request body not complete within this is answered 408 and the connection closed."""
    connections_per_address: int = 64
    """More connections from one address at once are closed before a byte is read."""
    auth_failures: int = 20
    """Failed authentications from one address within ``auth_window_seconds`` before it gets
    429 (every request, also with a good token) until the oldest failure leaves the window."""
    auth_window_seconds: int = 60
    shutdown_seconds: int = 5
    """At shutdown requests in flight get this long; then they are cancelled."""
    allow: Allowlist | None = None
    """Peer networks that may connect; None: anyone who reaches the (loopback) port."""
    trusted_proxies: Allowlist | None = None
    """The TLS reverse proxy in front: from a peer in these networks the client is the last
    address it put in X-Forwarded-For (``client_of``). The API's throttle, the access log and
    the pay pages' rate limits key on that client; behind a proxy every request would otherwise
    share the proxy's one address."""
