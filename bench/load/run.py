"""One load run: N calls through one mode, then the figures, each judged at the SIPp ends or
from Asterisk's stamps (engine: its call records keep them; bare app: its own dump)."""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.load import procstat, sipp_load
from bench.load.world import Databases, callers, engine_database, start_bare, start_engine
from bench.profile import profile
from bench.timers import percentile
from cards.clock import aware
from cards.db import Database
from cards.models import CallRecord
from testbed import rtp_pcap
from testbed.asterisk import PrivateAsterisk
from testbed.astro import ADVISOR_NO
from testbed.postgres import free_port

RATE_PER_S = 25
SERVICE = {"engine-sqlite": ADVISOR_NO, "engine-pg": ADVISOR_NO, "bare": "bare", "native": "native"}


@dataclass
class Bench:
    root: Path
    asterisk: PrivateAsterisk
    databases: Databases
    credit_s: int
    profile: bool = False
    """Sample the app (engine or bare) with py-spy from outside for the calls' span: its busy
    samples by package and the database's share go into the run's figures."""
    max_calls: int = 0
    """The engine's ``[engine] max_calls`` (0: no cap; overload shedding is on either way)."""


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def spread(values: list[int]) -> dict[str, int] | None:
    if not values:
        return None
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": max(values)}


async def one_run(bench: Bench, mode: str, calls: int) -> dict[str, Any]:
    work = bench.root / f"{mode}-{calls}"
    work.mkdir()
    app, url = await _start_app(bench, mode, calls, work)
    seconds = bench.credit_s + 15
    pcap = work / "audio.pcap"
    rtp_pcap.build(pcap, seconds + calls // RATE_PER_S + 10, {})
    timeout_s = calls // RATE_PER_S + seconds + 60
    timeout_ms = timeout_s * 1000
    advisor, advisor_log = await sipp_load.start(
        work, "advisor", sipp_load.advisor_xml(timeout_ms), port=bench.asterisk.advisor_port,
        media_port=free_port(), calls=calls, timeout_s=timeout_s, keys={"pcap": str(pcap)},
    )  # fmt: skip
    await asyncio.sleep(0.5)
    pids = {"asterisk": bench.asterisk.process.pid} if bench.asterisk.process else {}
    if app is not None:
        pids["app"] = app.pid
    cpu0 = {name: procstat.cpu_ms(pid) for name, pid in pids.items()}
    host0 = procstat.host_ticks()
    rss0 = procstat.rss_kib(app.pid) if app else 0
    peak = rss0
    spied = _spy(bench, app, calls, work)
    inject = sipp_load.injection_file(work / "callers.csv", callers(calls))
    caller, caller_log = await sipp_load.start(
        work, "caller", sipp_load.caller_xml(timeout_ms), port=free_port(),
        media_port=free_port(), calls=calls, timeout_s=timeout_s, keys={"pcap": str(pcap)},
        target=f"127.0.0.1:{bench.asterisk.sip_port}",
        extra=("-inf", str(inject), "-l", str(calls), "-r", str(RATE_PER_S), "-rp", "1000",
               "-s", SERVICE[mode]),
    )  # fmt: skip
    waiting = asyncio.ensure_future(caller.wait())
    while not waiting.done():
        if app is not None:
            peak = max(peak, procstat.rss_kib(app.pid))
        await asyncio.wait([waiting], timeout=0.5)
    try:
        await asyncio.wait_for(advisor.wait(), 30)
    except TimeoutError:
        advisor.kill()
    cpu = {name: procstat.cpu_ms(pid) - cpu0[name] for name, pid in pids.items()}
    host = procstat.host_share(host0, procstat.host_ticks())
    sampled = await spied if spied is not None else None
    stamps: dict[str, dict[str, int]] = {}
    if app is not None:
        app.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(app.wait(), 30)
        except TimeoutError:
            # Never left running: still subscribed to the Stasis app, it would refuse the next
            # run's calls as a stopping engine does.
            app.kill()
            await app.wait()
    if mode == "bare":
        for call in json.loads((work / "bare.json").read_text()):
            stamps[call["caller"].lstrip("+")] = call
    elif url is not None:
        stamps = await _engine_stamps(url)
    return (
        _figures(
            mode, calls, bench.credit_s, caller_log, advisor_log, stamps, cpu, peak - rss0, url
        )
        | {
            "host_cpu": host,
            "sipp_exit": {"caller": caller.returncode, "advisor": advisor.returncode},
            "app_exit": None if app is None else app.returncode,
        }
        | ({"app_profile": _profile_cut(sampled)} if sampled is not None else {})
    )


async def _start_app(
    bench: Bench, mode: str, calls: int, work: Path
) -> tuple[asyncio.subprocess.Process | None, str | None]:
    """The mode's ARI app (none for native) and the engine's database URL."""
    if mode.startswith("engine"):
        url = await bench.databases.fresh("sqlite" if mode == "engine-sqlite" else "postgresql")
        await engine_database(url, calls, bench.credit_s)
        return await start_engine(bench.asterisk, url, work, max_calls=bench.max_calls), url
    if mode == "bare":
        return await start_bare(bench.asterisk, bench.credit_s, work / "bare.json"), None
    return None, None


def _spy(
    bench: Bench, app: asyncio.subprocess.Process | None, calls: int, work: Path
) -> asyncio.Future[dict[str, Any]] | None:
    """py-spy on the app over the calls' span (ramp, talk, farewell), if asked for."""
    if not bench.profile or app is None:
        return None
    span_s = calls // RATE_PER_S + bench.credit_s + 10
    return asyncio.ensure_future(profile(app.pid, span_s, work / "app.spy"))


def _profile_cut(sampled: dict[str, Any]) -> dict[str, Any]:
    keep = ("error", "tool", "seconds", "rate_hz", "busy_samples", "database_share_pct")
    return {k: v for k, v in sampled.items() if k in keep} | {
        "by_package_cumulative": sampled.get("by_package_cumulative", [])[:8]
    }


async def _engine_stamps(url: str) -> dict[str, dict[str, int]]:
    db = Database(url)
    try:
        async with db.read() as session:
            records = (await session.scalars(select(CallRecord))).all()
    finally:
        await db.close()
    out = {}
    for r in records:
        entry = {"billed_s": r.billed_seconds}
        if r.answered_at is not None:
            entry["answered_ms"] = int(aware(r.answered_at).timestamp() * 1000)
        if r.charge_start_at is not None:
            entry["bridged_ms"] = int(aware(r.charge_start_at).timestamp() * 1000)
        out[r.caller.lstrip("+")] = entry
    return out


def _figures(
    mode: str,
    calls: int,
    credit_s: int,
    caller_log: Path,
    advisor_log: Path,
    stamps: dict[str, dict[str, int]],
    cpu: dict[str, int],
    rss_growth_kib: int,
    url: str | None,
) -> dict[str, Any]:
    callers_seen = sipp_load.parse(caller_log.read_text(errors="replace")).by_user()
    advisors = sipp_load.parse(advisor_log.read_text(errors="replace")).by_user()
    ok = [
        user for user, leg in callers_seen.items()
        if leg.answer and leg.bye and (a := advisors.get(user)) and a.answer and a.bye
    ]  # fmt: skip
    hangup, setup, answer, bridge_gap, after_bridge, early = [], [], [], [], [], 0
    for user in ok:
        theirs, adv = callers_seen[user], advisors[user]
        assert adv.answer and adv.bye and adv.invite and theirs.invite
        hangup.append(_ms(adv.bye) - _ms(adv.answer) - credit_s * 1000)
        setup.append(_ms(adv.invite) - _ms(theirs.invite))
        assert theirs.answer is not None
        answer.append(_ms(theirs.answer) - _ms(theirs.invite))
        seen = stamps.get(user.lstrip("+"), {})
        if "bridged_ms" in seen and "answered_ms" in seen:
            bridge_gap.append(seen["bridged_ms"] - seen["answered_ms"])
            after_bridge.append(_ms(adv.bye) - seen["bridged_ms"] - credit_s * 1000)
            if "billed_s" in seen:
                talked_ms = _ms(adv.bye) - seen["bridged_ms"]
                early += max(0, seen["billed_s"] - -(-talked_ms // 1000))
    refused = [
        _ms(leg.refused) - _ms(leg.invite)
        for leg in callers_seen.values()
        if leg.refused and leg.invite and not leg.answer
    ]
    per_call = max(len(ok), 1)
    figures: dict[str, Any] = {
        "mode": mode,
        "calls": calls,
        "refused": len(refused),
        "failures": calls - len(ok) - len(refused),
        "bye_at_advisor_minus_answer_minus_credit_ms": spread(hangup),
        "caller_invite_to_advisor_invite_ms": spread(setup),
        "caller_invite_to_its_200_ok_ms": spread(answer),
        "asterisk_cpu_ms_per_call": cpu.get("asterisk", 0) // per_call,
    }
    if refused:
        figures["caller_invite_to_its_503_ms"] = spread(refused)
    if bridge_gap:
        figures["answer_to_bridge_ms"] = spread(bridge_gap)
        figures["bye_at_advisor_minus_bridge_minus_credit_ms"] = spread(after_bridge)
    if "app" in cpu:
        figures["app_cpu_ms_per_call"] = cpu["app"] // per_call
        figures["app_rss_kib_per_live_call"] = rss_growth_kib // max(calls, 1)
    if url is not None:
        figures["seconds_billed_beyond_bridged_talk"] = early
    return figures
