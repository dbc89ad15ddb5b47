"""The API's own instruments beside the engine's: latency per route pattern, throttled requests,
whether the database answered the last scrape, and the engine's running totals as counters."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds (Prometheus' base unit); a top-up on SQLite is a few milliseconds."""


class Instruments:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "minutecard_api_requests",
            "API requests by route pattern (protocol: refused by aiohttp's parser) and status",
            ["route", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "minutecard_api_request_duration_seconds",
            "time from the request's headers to its answer, by route pattern",
            ["route"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.throttled = Counter(
            "minutecard_api_throttled",
            "requests or connections refused by a limit (auth: failed authentications; "
            "connections: per address; allowlist: a peer outside [api] allow)",
            ["reason"], registry=registry,
        )  # fmt: skip
        self.database_up = Gauge(
            "minutecard_database_up",
            "1 when the database answered this scrape; 0: the database-backed values are stale",
            registry=registry,
        )


class Totals(Collector):
    """Running totals the engine keeps in memory, exposed as counters (``_total``)."""

    def __init__(self, totals: dict[str, tuple[str, Callable[[], int]]]) -> None:
        self.totals = totals

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, (text, read) in self.totals.items():
            yield CounterMetricFamily(name, text, value=read())
