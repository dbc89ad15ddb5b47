"""`make demo` / `make run`: a private Asterisk, the engine on SQLite, and a scripted story.

demo: a caller activates a card by PIN, then calls the advisor until the credit runs out;
prints every prompt, the warning and hang-up instants with the hang-up error in ms, the billed
seconds and the ledger; stops everything and exits 0. run: keeps both running for a softphone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry
from pbx_engine.ari.events import timestamp_ms
from tests.e2e.world import build_sounds, e2e_world
from tests.support.astro import ADVISOR_NO, CARD_NO

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
        story(world.recorder.events)
        world.recorder.events.clear()
        print(f"\n2) {CALLER} dials the advisor number {ADVISOR_NO}; no PIN needed now")
        caller2, advisor = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=40, name="demo_advisor"
        )
        events = world.recorder.events
        story(events)
        answered = next(
            timestamp_ms(e["timestamp"]) or 0
            for e in events
            if e["type"] == "StasisStart" and e["channel"]["id"].endswith("-advisor")
        )
        warn = next(
            timestamp_ms(e["timestamp"]) or 0
            for e in events
            if e["type"] == "PlaybackStarted" and e["playback"]["target_uri"].startswith("bridge:")
        )
        exhaustion = answered + CREDIT_S * 1000
        print(f"\n   advisor answered (Asterisk's stamp)   {clock(answered)}")
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


def story(events: list[dict]) -> None:
    for event in events:
        at = clock(timestamp_ms(event.get("timestamp")) or 0)
        if event["type"] == "PlaybackStarted":
            target = (
                "both legs" if event["playback"]["target_uri"].startswith("bridge:") else "caller"
            )
            print(
                f"   {at}  plays {event['playback']['media_uri'].split('/', 2)[-1]:28} to {target}"
            )
        elif event["type"] == "ChannelDtmfReceived":
            print(f"   {at}  caller pressed {event['digit']}")
        elif event["type"] == "StasisStart" and event["channel"]["id"].endswith("-advisor"):
            print(f"   {at}  advisor answered")
        elif event["type"] == "ChannelHangupRequest":
            who = "advisor" if event["channel"]["id"].endswith("-advisor") else "caller"
            print(f"   {at}  {who} leg hung up")


async def keep_running(root: Path) -> int:
    sounds = build_sounds(root / "sounds")
    async with e2e_world(root, sounds, credit_seconds=600, warning_lead=120) as world:
        ast = world.asterisk
        print(f"""minutecard is running (Ctrl-C stops it).
  Asterisk SIP:  udp 127.0.0.1:{ast.sip_port}  (calls from 127.0.0.1 are the 'trunk')
  ARI:           {ast.ari_url}  user minutecard
  Card number:   {CARD_NO}   PIN {world.card.pin} (10 minutes)
  Advisor:       {ADVISOR_NO}  -> PJSIP/advisor1 = sip:advisor1@127.0.0.1:{ast.advisor_port}
A softphone on this host: set its SIP server to 127.0.0.1:{ast.sip_port}, no registration,
RFC 2833 DTMF, and dial the card number; a second softphone listening on port
{ast.advisor_port} plays the advisor.""")
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
    raise SystemExit(code)


if __name__ == "__main__":
    main()
