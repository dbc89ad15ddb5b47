"""The capacity bench's cuts of what it measured: py-spy's stacks into top functions, the lag
histogram's percentiles and the knee bound, and CPU split into set-ups and live call-seconds."""

from __future__ import annotations

from bench.capacity.measure import lag_pct, past_knee
from bench.capacity.phases import cpu_split
from bench.profile import top_functions

ENTRY = "run (asyncio/runners.py);BaseEventLoop._run_once (asyncio/base_events.py)"
LOOP = "Handle._run (asyncio/events.py)"


def test_own_and_cumulative_samples_below_the_loops_entry_chain() -> None:
    raw = "\n".join([
        f"{ENTRY};{LOOP};Engine._work (pbx_engine/engine.py);quote (rating/quote.py) 30",
        f"{ENTRY};{LOOP};Engine._work (pbx_engine/engine.py) 10",
        f"{ENTRY};EpollSelector.select (selectors.py) 40",
        "Session.execute (sqlalchemy/orm/session.py) 20",  # a greenlet's stack of its own
        " 5",  # py-spy's line without frames
    ])  # fmt: skip
    cut = top_functions(raw)
    assert cut["busy_samples"] == 100
    assert cut["database_share_pct"] == 20
    own = {row["function"]: row["share_pct"] for row in cut["own"]}
    assert own == {
        "EpollSelector.select (selectors.py)": 40,
        "quote (rating/quote.py)": 30,
        "Session.execute (sqlalchemy/orm/session.py)": 20,
        "Engine._work (pbx_engine/engine.py)": 10,
    }
    cumulative = {row["function"]: row["samples"] for row in cut["cumulative"]}
    assert cumulative["Engine._work (pbx_engine/engine.py)"] == 40
    assert LOOP not in cumulative and "run (asyncio/runners.py)" not in cumulative
    assert LOOP in cut["cumulative_leaves_out"]
    packages = {row["package"]: row["samples"] for row in cut["by_package_cumulative"]}
    assert packages == {"pbx_engine": 40, "rating": 30, "selectors": 40, "sqlalchemy": 20}


def test_the_database_share_counts_a_sample_once_whatever_its_sql_frames() -> None:
    raw = "\n".join([
        f"{ENTRY};{LOOP};settle (cards/services/calls.py);execute (sqlalchemy/orm/session.py) 3",
        f"{ENTRY};{LOOP};Engine._work (pbx_engine/engine.py);fetch (asyncpg/connection.py) 1",
        "_connection_worker_thread (aiosqlite/core.py);execute (sqlite3) 2",
        f"{ENTRY};{LOOP};AriClient._request (pbx_engine/ari/client.py) 4",
    ])  # fmt: skip
    assert top_functions(raw)["database_share_pct"] == 60


def test_lag_percentiles_read_as_bucket_bounds_and_the_knee_is_past_20_ms() -> None:
    before = [0] * 12
    # 98 samples at or under 1 ms, one under 20, one under 50: p99 falls in the ≤ 20 bucket.
    after = [98, 98, 98, 98, 99, 100, 100, 100, 100, 100, 100, 100]
    assert lag_pct(before, after, 50) == 1
    assert lag_pct(before, after, 99) == 20
    assert not past_knee(20)
    assert past_knee(50) and past_knee("+Inf")


def test_cpu_splits_into_a_live_call_second_and_a_set_up() -> None:
    # CPU ms/s = 0.1 × live + 300 → 100 µs per live call-second,
    # 300 ms/s / 30 set-ups/s = 10 ms per set-up and end.
    steps = [{"live_calls": n, "engine_cpu_ms_per_s": n // 10 + 300} for n in (1000, 2000, 4000)]
    assert cpu_split(steps, 30) == {
        "us_per_live_call_second": 100,
        "us_per_setup_and_end": 10_000,
        "steps_fitted": 3,
    }
    assert cpu_split(steps[:1], 30) is None
