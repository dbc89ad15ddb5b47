"""SIPp scenarios for the end-to-end tests: a caller (UAC) and an advisor (UAS)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SDP = """v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
"""

CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="minutecard caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{sdp}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <nop><action><exec play_pcap_audio="[pcap]"/></action></nop>
{ending}
</scenario>
"""

WAIT_FOR_BYE = """  <recv request="BYE" timeout="[timeout]"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>"""

HANG_UP_AFTER = """  <pause milliseconds="[hangup_ms]"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200"/>"""

ADVISOR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="minutecard advisor">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:advisor@[local_ip]:[local_port]>
Content-Length: 0

  ]]></send>
  <pause milliseconds="[ring_ms]"/>
  <send retrans="500"><![CDATA[
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:advisor@[local_ip]:[local_port]>
{body}
  ]]></send>
  <recv request="ACK"/>
{after}
</scenario>
"""

ADVISOR_TALKS = (
    """  <nop><action><exec play_pcap_audio="[pcap]"/></action></nop>\n""" + WAIT_FOR_BYE
)


TIMEOUT_MS = 120_000


def caller_xml(*, hang_up_ms: int | None) -> str:
    ending = WAIT_FOR_BYE if hang_up_ms is None else HANG_UP_AFTER
    text = CALLER.replace("{sdp}", SDP).replace("{ending}", ending)
    return text.replace("[timeout]", str(TIMEOUT_MS)).replace("[hangup_ms]", str(hang_up_ms))


def advisor_xml(*, busy: bool, ring_ms: int) -> str:
    base = ADVISOR.replace("[ring_ms]", str(ring_ms))
    if busy:
        return (
            base.replace("{status}", "486 Busy Here")
            .replace("{body}", "Content-Length: 0\n")
            .replace("{after}", "")
        )
    body = "Content-Type: application/sdp\nContent-Length: [len]\n\n" + SDP
    talks = ADVISOR_TALKS.replace("[timeout]", str(TIMEOUT_MS))
    return base.replace("{status}", "200 OK").replace("{body}", body).replace("{after}", talks)


@dataclass
class SippRun:
    returncode: int
    messages: str
    stderr: str

    def times(self, first_line: str) -> list[datetime]:
        """When each message starting with ``first_line`` was sent or received."""
        found = []
        for block in self.messages.split("----------------------------------------------- ")[1:]:
            stamp, _, rest = block.partition("\n")
            body = rest.split("\n\n", 1)[-1] if "message" in rest.split("\n", 1)[0] else rest
            if body.lstrip().startswith(first_line):
                found.append(datetime.strptime(stamp.strip()[:26], "%Y-%m-%d %H:%M:%S.%f"))
        return found


async def run_sipp(
    workdir: Path,
    name: str,
    xml: str,
    *,
    target: str | None,
    port: int,
    keys: dict[str, str],
    service: str | None = None,
    media_port: int,
    timeout_s: int = 120,
    start: asyncio.Event | None = None,
) -> SippRun:
    scenario = workdir / f"{name}.xml"
    scenario.write_text(xml)
    log = workdir / f"{name}_messages.log"
    args = [
        "sipp",
        "-sf",
        str(scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        "1",
        "-mp",
        str(media_port),
        "-trace_msg",
        "-message_file",
        str(log),
        "-nostdin",
        "-timeout",
        f"{timeout_s}s",
        "-timeout_error",
    ]
    if service:
        args += ["-s", service]
    for key, value in keys.items():
        args += ["-key", key, value]
    if target:
        args.append(target)
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    if start is not None:
        start.set()
    _, stderr = await proc.communicate()
    messages = log.read_text(errors="replace") if log.exists() else ""
    return SippRun(proc.returncode or 0, messages, stderr.decode(errors="replace"))


def after_ms(stamp_ms: int, seconds: int) -> datetime:
    """An Asterisk stamp (epoch ms) plus whole seconds, as SIPp's naive UTC times read."""
    at = datetime.fromtimestamp(stamp_ms // 1000, UTC).replace(microsecond=stamp_ms % 1000 * 1000)
    return at.replace(tzinfo=None) + timedelta(seconds=seconds)
