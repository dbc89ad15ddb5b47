"""`make demo` / `make run`: a private Asterisk, the engine on SQLite, and a scripted story.

demo: a caller activates a card by PIN, then calls the advisor until the credit runs out;
prints every prompt, the warning and hang-up instants with the hang-up error in ms, the billed
seconds and the ledger; stops everything and exits 0. The story is told from what Asterisk did,
as an ARI app of the demo's own subscribed to every event sees it (the engine's own stream is
filtered to the events it acts on). run: keeps both running for a softphone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry
from pbx_engine.ari.events import timestamp_ms
from prompts.build import BuildError
from testbed.astro import ADVISOR_NO, CARD_NO
from testbed.e2e_world import build_sounds, e2e_world

CALLER = "030123456"
CREDIT_S, LEAD_S = 12, 5


def clock(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%H:%M:%S") + f".{ms % 1000:03d}"


async def demo(root: Path) -> int:
    sounds = build_sounds(root / "sounds")
    print(f"minutecard demo: card worth {CREDIT_S} s, warning {LEAD_S} s before the end\n")
    async with e2e_world(root, sounds, credit_seconds=CREDIT_S, warning_lead=LEAD_S) as world:
        print(f"1) {CALLER} dials the card number {CARD_NO} and types the PIN {world.card.pin}")
        caller, _ = await world.call(
            CARD_NO,
            CALLER,
            pcap_seconds=22,
            advisor=None,
            digits={3_000: world.card.pin},
            name="demo_activation",
        )
        story(world.observed)
        del world.observed[:]
        print(f"\n2) {CALLER} dials the advisor number {ADVISOR_NO}; no PIN needed now")
        caller2, advisor = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=40, name="demo_advisor"
        )
        events = story(world.observed)
        bridged = first_ms(events, both_bridged)
        warn = first_ms(events, lambda e: playback_target(e) == "both legs")
        if bridged is None or warn is None:
            print("\nAsterisk reported no bridged call or no warning;", "demo FAILED")
            return 1
        exhaustion = bridged + CREDIT_S * 1000
        print(f"\n   both legs bridged (Asterisk's stamp)  {clock(bridged)}  charging starts")
        print(
            f"   warning into the bridge (both legs)   {clock(warn)}  "
            f"(due {clock(exhaustion - LEAD_S * 1000)}, "
            f"error {warn - exhaustion + LEAD_S * 1000} ms)"
        )
        if advisor is not None and advisor.times("BYE"):
            bye = advisor.times("BYE")[0].replace(tzinfo=UTC)
            due = datetime.fromtimestamp(exhaustion // 1000, UTC) + timedelta(
                milliseconds=exhaustion % 1000
            )
            error_us = (bye - due) // timedelta(microseconds=1)
            print(f"   credit exhausted at                   {clock(exhaustion)}")
            print(
                f"   advisor's phone got BYE at            {bye.strftime('%H:%M:%S.%f')[:-3]}"
                f"  (hang-up error {error_us / 1000:.1f} ms)"
            )
        async with world.db.transaction() as session:
            record = (await session.scalars(select(CallRecord))).one()
            entries = (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all()
        print(
            f"\n   billed {record.billed_seconds} s, charged {record.charged} card seconds, "
            f"hang-up side {record.hangup_side}"
        )
        print("\n   ledger of the card:")
        for entry in entries:
            print(
                f"     {entry.kind:8} {entry.amount:+5d} s  "
                f"balance after {entry.balance_after:4d} s  {entry.reason or ''}"
            )
        ok = caller.returncode == 0 and caller2.returncode == 0 and record.charged == CREDIT_S
    print("\nstopped Asterisk and the engine;", "demo OK" if ok else "demo FAILED")
    return 0 if ok else 1


Event = dict[str, Any]


def advisor_answered(event: Event) -> bool:
    channel = event.get("channel", {})
    return bool(
        event["type"] == "ChannelStateChange"
        and channel["id"].endswith("-advisor")
        and channel["state"] == "Up"
    )


def both_bridged(event: Event) -> bool:
    """The advisor's leg entering the bridge: the caller's is in already, charging starts."""
    return bool(
        event["type"] == "ChannelEnteredBridge" and event["channel"]["id"].endswith("-advisor")
    )


def playback_target(event: Event) -> str | None:
    """Whom a started prompt plays to, for a PlaybackStarted; None for any other event."""
    if event["type"] != "PlaybackStarted":
        return None
    return "both legs" if event["playback"]["target_uri"].startswith("bridge:") else "caller"


def first_ms(events: list[Event], wanted: Callable[[Event], bool]) -> int | None:
    return next((timestamp_ms(e["timestamp"]) for e in events if wanted(e)), None)


def story(observed: list[Event]) -> list[Event]:
    """Print what the caller heard and did, once each (the observer hears a bridge's playback
    on each of its topics, and a hang-up request once per cause); return the events told."""
    told: list[Event] = []
    seen: set[tuple[object, ...]] = set()
    for event in observed:
        channel = event.get("channel", {}).get("id", "")
        state = event.get("channel", {}).get("state", "")
        playback = event.get("playback", {})
        stamp = event["timestamp"] if event["type"] == "ChannelDtmfReceived" else ""
        key = (event["type"], channel, state, playback.get("id"), playback.get("media_uri"), stamp)
        if key in seen:
            continue
        seen.add(key)
        at = clock(timestamp_ms(event.get("timestamp")) or 0)
        target = playback_target(event)
        if target is not None:
            print(f"   {at}  plays {playback['media_uri'].split('/', 2)[-1]:28} to {target}")
        elif event["type"] == "ChannelDtmfReceived":
            print(f"   {at}  caller pressed {event['digit']}")
        elif advisor_answered(event):
            print(f"   {at}  advisor answered")
        elif both_bridged(event):
            print(f"   {at}  both legs in the bridge")
        elif event["type"] == "ChannelHangupRequest":
            who = "advisor" if channel.endswith("-advisor") else "caller"
            print(f"   {at}  {who} leg hung up")
        else:
            continue
        told.append(event)
    return told


async def keep_running(root: Path) -> int:
    sounds = build_sounds(root / "sounds")
    # A money card (6.00 EUR: 10 minutes at 0.60 EUR) so the top-up page can sell it more.
    async with e2e_world(
        root, sounds, credit_seconds=60_000, warning_lead=120, unit="money",
        denominations=(50_000, 100_000, 200_000),
    ) as world:  # fmt: skip
        ast = world.asterisk
        database = f"sqlite+aiosqlite:///{root / 'e2e.sqlite3'}"
        print(
            f"""minutecard is running (Ctrl-C stops it).
  Asterisk SIP:  udp 127.0.0.1:{ast.sip_port}  (calls from 127.0.0.1 are the 'trunk')
  ARI:           {ast.ari_url}  user minutecard
  Card number:   {CARD_NO}   PIN {world.card.pin} (10 minutes)
  Advisor:       {ADVISOR_NO}  -> PJSIP/advisor1 = sip:advisor1@127.0.0.1:{ast.advisor_port}
  Top-up page:   {world.pay_url}  card serial …{world.card.serial[-4:]}
A softphone on this host: set its SIP server to 127.0.0.1:{ast.sip_port}, no registration,
RFC 2833 DTMF, and dial the card number; a second softphone listening on port
{ast.advisor_port} plays the advisor. Once the PIN bound the softphone's number to the card,
the top-up page finds the card by that number and the serial's last four digits; a transfer
order is paid with
  MINUTECARD_DATABASE_URL={database} cardadmin order paid REFERENCE""",
            flush=True,
        )
        await asyncio.Event().wait()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-running", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="minutecard-demo-"))
    try:
        code = asyncio.run(keep_running(root) if args.keep_running else demo(root))
    except KeyboardInterrupt:
        code = 0
    except (RuntimeError, BuildError) as exc:  # Asterisk or the prompt build: say it in a line
        print(f"minutecard demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
