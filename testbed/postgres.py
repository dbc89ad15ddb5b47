"""A private PostgreSQL cluster for the tests: Debian's binaries, a temp dir, a free port."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PRIVATE_PORTS = range(12_000, 20_000)
"""Below Linux's ephemeral range (32768–60999) and the test Asterisks' RTP (20000–39999): no
outgoing connection takes such a port between its pick and its bind (seen once: an e2e world's
AGI port taken by a client socket in between)."""
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port free for TCP and UDP now, never the same one twice in a process."""
    for _ in range(500):
        port = PRIVATE_PORTS[secrets.randbelow(len(PRIVATE_PORTS))]
        if port in _handed_out or not _bindable(port):
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {PRIVATE_PORTS.start}-{PRIVATE_PORTS.stop - 1}")


def _bindable(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivatePostgres:
    root: Path
    port: int
    bindir: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the cluster as Debian's postgres user.
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60)

    @classmethod
    def start(cls) -> PrivatePostgres:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (make test installs it)")
        root = Path(tempfile.mkdtemp(prefix="minutecard-pg-"))
        root.chmod(0o755)
        data = root / "data"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(data, "postgres")
        server = cls(root, free_port(), bindir)
        server._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        server.resume()
        return server

    def resume(self) -> None:
        """Start the server (again) on its data directory and port."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c synchronous_commit=off"
        )
        data, log = str(self.root / "data"), str(self.root / "log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def halt(self) -> None:
        """Stop the server, keeping its data: clients see the database go away."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            self.halt()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
