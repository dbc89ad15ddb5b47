"""Which Asterisk a private instance runs: 16.28, the system's own, or 22 LTS from a private root
filesystem that ``scripts/install-system-deps.sh`` makes once (README, "Asterisk versions").

``MINUTECARD_ASTERISK=16|22`` picks one; unset, the newest. ``python -m
testbed.asterisk_versions`` (``make asterisk-versions``) prints those the tests can start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

VARIABLE = "MINUTECARD_ASTERISK"
ROOT_22 = Path(
    os.environ.get("MINUTECARD_ASTERISK22_ROOT", "/var/cache/minutecard/asterisk22-root")
)

# Run in a mount namespace of its own (``unshare --mount``): the binds live only as long as
# Asterisk does and are never seen outside it, so a crash or SIGKILL leaves no mount behind.
# The temporary directory is bound at its own path: the private configs, logs and built prompts
# live there and keep the paths the host gave them.
# The host's /etc/hosts is bound in too (mmdebstrap makes a root without one): for every RTP
# stream bound to 0.0.0.0 Asterisk looks up its own host name (main/acl.c, ast_find_ourip) and,
# when that fails, A.ROOT-SERVERS.NET, on PJSIP's one SIP thread. Without the file both went to
# DNS; a query left unanswered stalled all SIP for the resolver's 5 s timeout (every call, native
# Dial included, answered 5-15 s late at 20 calls; docs/benchmarks.md, "Both Asterisk versions").
_CHROOT = """set -e
r=$1; t=$2; shift 2
mount --rbind /proc "$r/proc"
mount --rbind /dev "$r/dev"
[ -e "$r/etc/hosts" ] || : > "$r/etc/hosts"
mount --bind /etc/hosts "$r/etc/hosts"
mkdir -p "$r$t"
mount --bind "$t" "$r$t"
exec chroot "$r" "$@"
"""


@dataclass(frozen=True)
class AsteriskVersion:
    key: str
    root: Path | None  # None: the system's own Asterisk
    lacks: tuple[str, ...] = ()  # modules asterisk_conf/modules.conf loads that it does not have

    def host_path(self, path: Path) -> Path:
        """Where a path of that Asterisk's filesystem is seen from here."""
        return path if self.root is None else self.root / path.relative_to("/")

    def modules_conf(self, text: str) -> str:
        """modules.conf without the lines of modules this version lacks (its comment says so)."""
        for module in self.lacks:
            text = re.sub(rf"^load = {re.escape(module)}.*\n", "", text, flags=re.M)
        return text

    def moddir(self) -> str | None:
        """astmoddir as that Asterisk sees it; None: the sample's. Debian's 22 has its modules
        under the multiarch directory (``/usr/lib/x86_64-linux-gnu/asterisk/modules``)."""
        if self.root is None:
            return None
        found = sorted(self.root.glob("usr/lib/*/asterisk/modules"))
        return f"/{found[0].relative_to(self.root)}" if found else None

    def _system_binary(self) -> str | None:
        return shutil.which("asterisk") or (
            "/usr/sbin/asterisk" if Path("/usr/sbin/asterisk").exists() else None
        )

    def installed(self) -> bool:
        if self.root is None:
            return self._system_binary() is not None
        return version_file(self.root).is_file()

    def command(self, *args: str) -> list[str]:
        if self.root is None:
            return [self._system_binary() or "asterisk", *args]
        return self.in_root("/usr/sbin/asterisk", *args)

    def in_root(self, *argv: str) -> list[str]:
        """A program run where that Asterisk runs: its root, with the binds it gets."""
        if self.root is None:
            return list(argv)
        tmp = str(Path(tempfile.gettempdir()).resolve())
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", _CHROOT,
                "asterisk", str(self.root), tmp, *argv]  # fmt: skip

    def describe(self) -> str:
        """The exact version, e.g. ``Asterisk 22.10.1+dfsg+~cs6.17.60671434-1``."""
        if self.root is not None:
            return version_file(self.root).read_text().strip()
        out = subprocess.run(self.command("-V"), capture_output=True, text=True, check=False)
        return out.stdout.strip()


def version_file(root: Path) -> Path:
    """Written last by the installer, so it also says the root is complete."""
    return root.with_name(root.name + ".version")


VERSIONS = {
    "16": AsteriskVersion("16", None, ("res_websocket_client.so",)),
    "22": AsteriskVersion("22", ROOT_22),
}
NEWEST = "22"


def selected() -> AsteriskVersion:
    key = os.environ.get(VARIABLE, NEWEST)
    if key not in VERSIONS:
        raise RuntimeError(f"{VARIABLE}={key}: use one of {', '.join(VERSIONS)}")
    return VERSIONS[key]


def main() -> None:
    for version in VERSIONS.values():
        if version.installed():
            sys.stdout.write(f"{version.key} {version.describe()}\n")


if __name__ == "__main__":
    main()
