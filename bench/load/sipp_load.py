"""SIPp for load: one UAC places N calls (caller numbers from an injection file, audio both
ways), one UAS answers them as the advisor; their message logs are parsed per call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from testbed import sipp

CALLER_HEADER = '"caller" <sip:[field0]@[local_ip]:[local_port]>'


REFUSED = """  <nop next="done"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <label id="done"/>
</scenario>"""


def caller_xml(timeout_ms: int) -> str:
    """The test bed's caller, plus a way out when the engine sheds the call: a 503 before the
    answer is ACKed and counted as refused (a call SIPp completes, not a failure)."""
    text = sipp.caller_xml(hang_up_ms=None).replace("[caller]", "[field0]")
    answered = '<recv response="200" rrs="true"/>'
    shed = '<recv response="503" optional="true" next="refused"/>'
    text = text.replace(answered, f"{shed}\n  {answered}").replace("</scenario>", REFUSED)
    return text.replace(f'timeout="{sipp.TIMEOUT_MS}"', f'timeout="{timeout_ms}"')


def advisor_xml(timeout_ms: int) -> str:
    text = sipp.advisor_xml(busy=False, ring_ms=0)
    return text.replace(f'timeout="{sipp.TIMEOUT_MS}"', f'timeout="{timeout_ms}"')


def injection_file(path: Path, callers: list[str]) -> Path:
    path.write_text("SEQUENTIAL\n" + "".join(f"{c};\n" for c in callers))
    return path


@dataclass
class Leg:
    """What one SIPp saw of one call (one Call-ID)."""

    user: str = ""
    invite: datetime | None = None
    answer: datetime | None = None
    bye: datetime | None = None
    refused: datetime | None = None
    """When a 503 answered the INVITE (the engine shed the call)."""


@dataclass
class Log:
    legs: dict[str, Leg] = field(default_factory=dict)

    def by_user(self) -> dict[str, Leg]:
        return {leg.user: leg for leg in self.legs.values() if leg.user}


def parse(messages: str) -> Log:
    """Per Call-ID: first INVITE, the 200 OK to it, the BYE received; user of From."""
    log = Log()
    for block in messages.split("----------------------------------------------- ")[1:]:
        stamp_line, _, rest = block.partition("\n")
        header, _, message = rest.partition("\n\n")
        lines = message.lstrip().splitlines()
        if not lines:
            continue
        at = datetime.strptime(stamp_line.strip()[:26], "%Y-%m-%d %H:%M:%S.%f")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        call_id = headers.get("call-id", "")
        leg = log.legs.setdefault(call_id, Leg())
        first, cseq = lines[0], headers.get("cseq", "")
        if first.startswith("INVITE") and leg.invite is None:
            leg.invite = at
            sender = headers.get("from", "")
            leg.user = sender.split("sip:", 1)[-1].split("@", 1)[0]
        elif first.startswith("SIP/2.0 200") and cseq.endswith("INVITE") and leg.answer is None:
            leg.answer = at
        elif first.startswith("SIP/2.0 503") and cseq.endswith("INVITE") and leg.refused is None:
            leg.refused = at
        elif first.startswith("BYE") and "received" in header and leg.bye is None:
            leg.bye = at
    return log


async def start(
    workdir: Path,
    name: str,
    xml: str,
    *,
    port: int,
    media_port: int,
    calls: int,
    timeout_s: int,
    keys: dict[str, str],
    target: str | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[asyncio.subprocess.Process, Path]:
    scenario = workdir / f"{name}.xml"
    scenario.write_text(xml)
    log = workdir / f"{name}_messages.log"
    args = [
        "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port),
        "-mp", str(media_port), "-m", str(calls), "-trace_msg", "-message_file", str(log),
        "-nostdin", "-timeout", f"{timeout_s}s", "-timeout_error", *extra,
    ]  # fmt: skip
    for key, value in keys.items():
        args += ["-key", key, value]
    if target:
        args.append(target)
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    return proc, log
