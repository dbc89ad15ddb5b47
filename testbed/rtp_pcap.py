"""A pcap of one continuous RTP stream: PCMU silence every 20 ms with RFC 4733 DTMF events.

SIPp's shipped DTMF pcaps reuse sequence numbers and timestamps, so a repeated digit is dropped
as a duplicate ("1123" arrives as "123"); this stream never repeats either.
"""

from __future__ import annotations

import struct
from pathlib import Path

PTIME_MS = 20
SAMPLES = 160
PCMU, TELEPHONE_EVENT = 0, 101
SSRC = 0x4D494E55
EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
DIGIT_MS, GAP_MS = 120, 120


def _udp_frame(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 6000, 6002, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        0,
        0,
        64,
        17,
        0,
        bytes([127, 0, 0, 1]),
        bytes([127, 0, 0, 1]),
    )
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def _rtp(pt: int, seq: int, ts: int, payload: bytes, marker: bool = False) -> bytes:
    return (
        struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, SSRC
        )
        + payload
    )


def build(path: Path, seconds: int, digits: dict[int, str]) -> None:
    """``digits`` maps a start offset in ms to the digits sent from there (with gaps)."""
    starts: dict[int, str] = {}
    for offset, text in digits.items():
        for i, digit in enumerate(text):
            starts[offset + i * (DIGIT_MS + GAP_MS)] = digit
    frames: list[tuple[int, bytes]] = []
    seq = ts = 0
    t = 0
    while t < seconds * 1000:
        pressed = starts.get(t)
        if pressed is not None:
            event_ts = ts
            steps = DIGIT_MS // PTIME_MS
            for step in range(steps + 3):
                end = step >= steps
                duration = SAMPLES * min(step + 1, steps)
                payload = struct.pack("!BBH", EVENTS[pressed], (0x80 if end else 0) | 10, duration)
                frames.append((t, _rtp(TELEPHONE_EVENT, seq, event_ts, payload, marker=step == 0)))
                seq += 1
                if step < steps:
                    t += PTIME_MS
                    ts += SAMPLES
            continue
        frames.append((t, _rtp(PCMU, seq, ts, b"\xff" * SAMPLES)))
        seq += 1
        ts += SAMPLES
        t += PTIME_MS
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for at_ms, rtp in frames:
            frame = _udp_frame(rtp)
            out.write(
                struct.pack("<IIII", at_ms // 1000, (at_ms % 1000) * 1000, len(frame), len(frame))
            )
            out.write(frame)
