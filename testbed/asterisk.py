"""A private Asterisk for tests and the demo: own directories, free ports, our sample configs."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from testbed.asterisk_versions import AsteriskVersion, selected
from testbed.postgres import free_port

SAMPLES = Path(__file__).resolve().parents[1] / "asterisk_conf"
SYSTEM_DATA = Path("/usr/share/asterisk")
ARI_USER = "minutecard"


@dataclass
class PrivateAsterisk:
    root: Path
    http_port: int
    sip_port: int
    advisor_port: int
    rtp_start: int
    password: str
    version: AsteriskVersion
    rtp_ports: int = 100
    process: subprocess.Popen[bytes] | None = None

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sounds(self) -> Path:
        return self.root / "data" / "sounds"

    @classmethod
    def prepare(
        cls,
        numbers_conf: str,
        prompts_dir: Path | None = None,
        *,
        rtp_ports: int = 100,
        systemname: str | None = None,
        version: AsteriskVersion | None = None,
    ) -> PrivateAsterisk:
        """``rtp_ports``: about four per two-leg call (RTP and RTCP on each leg);
        ``systemname`` prefixes its channel ids (several servers on one database);
        ``version``: ``MINUTECARD_ASTERISK``'s unless given."""
        root = Path(tempfile.mkdtemp(prefix="minutecard-ast-"))
        rtp = 20_000 + secrets.randbelow(200) * 100
        ast = cls(
            root, free_port(), free_port(), free_port(), rtp, secrets.token_hex(12),
            version or selected(), rtp_ports,
        )  # fmt: skip
        ast._write_configs(numbers_conf, systemname)
        ast._link_data(prompts_dir)
        return ast

    def _write_configs(self, numbers_conf: str, systemname: str | None) -> None:
        etc = self.root / "etc"
        etc.mkdir()
        for sample in SAMPLES.glob("*.conf"):
            text = sample.read_text()
            if sample.name == "asterisk.conf":
                text = re.sub(
                    r"^(ast\w+dir) => /(etc|var)/\S*",
                    lambda m: f"{m[1]} => {self.root / ('etc' if m[2] == 'etc' else m[1])}",
                    text,
                    flags=re.M,
                )
                text = re.sub(
                    r"^astdatadir => .*$", f"astdatadir => {self.root / 'data'}", text, flags=re.M
                )
                if moddir := self.version.moddir():
                    text = re.sub(r"^astmoddir => .*$", f"astmoddir => {moddir}", text, flags=re.M)
                if systemname:
                    text = re.sub(
                        r"^;systemname = \S+", f"systemname = {systemname}", text, flags=re.M
                    )
            elif sample.name == "http.conf":
                text = text.replace("bindport = 8088", f"bindport = {self.http_port}")
            elif sample.name == "ari.conf":
                text = text.replace("CHANGE-ME-BEFORE-USE", self.password)
            elif sample.name == "pjsip.conf":
                text = text.replace("bind = 0.0.0.0:5060", f"bind = 127.0.0.1:{self.sip_port}")
                text = text.replace("127.0.0.1:5070", f"127.0.0.1:{self.advisor_port}")
            elif sample.name == "rtp.conf":
                text = text.replace("rtpstart = 10000", f"rtpstart = {self.rtp_start}")
                text = text.replace(
                    "rtpend = 10999", f"rtpend = {self.rtp_start + self.rtp_ports - 1}"
                )
            elif sample.name == "modules.conf":
                text = self.version.modules_conf(text)
            elif sample.name == "logger.conf":
                text = text.replace(
                    "messages.log => notice,warning,error",
                    "messages.log => notice,warning,error,verbose(3)",
                )
            (etc / sample.name).write_text(text)
        (etc / "minutecard-numbers.conf").write_text(numbers_conf)
        for name in (
            "astvarlibdir",
            "astdbdir",
            "astkeydir",
            "astspooldir",
            "astrundir",
            "astlogdir",
        ):
            (self.root / name).mkdir()

    def _link_data(self, prompts_dir: Path | None) -> None:
        data = self.root / "data"
        data.mkdir()
        # Links to the paths as that Asterisk sees them (in its own root for 22).
        for entry in self.version.host_path(SYSTEM_DATA).iterdir():
            if entry.name != "sounds":
                (data / entry.name).symlink_to(SYSTEM_DATA / entry.name)
        self.sounds.mkdir()
        for entry in self.version.host_path(SYSTEM_DATA / "sounds").iterdir():
            (self.sounds / entry.name).symlink_to(SYSTEM_DATA / "sounds" / entry.name)
        if prompts_dir is not None:
            (self.sounds / "minutecard").symlink_to(prompts_dir.resolve())

    def log(self) -> str:
        path = self.root / "astlogdir" / "messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def start(self, timeout_s: int = 20) -> None:
        if not self.version.installed():
            raise RuntimeError(
                f"Asterisk {self.version.key} is not installed (make system-deps installs it)"
            )
        self.process = subprocess.Popen(
            self.version.command("-C", str(self.root / "etc" / "asterisk.conf"), "-f", "-n", "-q"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, self.password)}
        async with aiohttp.ClientSession(headers=auth) as session:
            for _ in range(timeout_s * 10):
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"Asterisk exited ({self.process.returncode}):\n" + self.log()[-3000:]
                    )
                try:
                    async with session.get(f"{self.ari_url}/ari/asterisk/info") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("Asterisk's ARI did not answer:\n" + self.log()[-3000:])

    def cli(self, command: str) -> str:
        proc = subprocess.run(
            self.version.command("-C", str(self.root / "etc" / "asterisk.conf"), "-rx", command),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return proc.stdout

    def crash(self) -> None:
        """SIGKILL, as a crash: its directories stay for ``start`` again on the same ports."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)
