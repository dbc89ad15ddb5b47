"""Render the catalogue to 8 kHz mono signed-linear files that Asterisk plays.

gTTS when its service answers within a short timeout, else espeak-ng; sox converts to `.sln`
(Asterisk refuses 22 kHz wav). A manifest per language records what each file was built from
(text, engine, voice), so a rebuild renders only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from prompts.languages import language
from prompts.sentences import all_sounds

SOUNDS_DIR_ENV = "MINUTECARD_SOUNDS_DIR"
DEFAULT_SOUNDS_DIR = "/usr/share/asterisk/sounds"
GTTS_HOST = ("translate.google.com", 443)
GTTS_PROBE_SECONDS = 2
FORMAT = "sln8k-s16-mono-hp300-lp3400-norm3-trim-v1"
SAMPLE_RATE = 8000
MANIFEST = ".manifest.json"
# Trims leading and trailing silence so fragments played back to back sound like one sentence.
_TRIM = ["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"]
_FILTER = ["highpass", "300", "lowpass", "3400", "norm", "-3"]


class BuildError(Exception):
    """A prompt could not be rendered (engine missing or failing)."""


def sounds_dir(configured: str | None = None) -> Path:
    return Path(configured or os.environ.get(SOUNDS_DIR_ENV) or DEFAULT_SOUNDS_DIR)


def gtts_reachable(timeout: float = GTTS_PROBE_SECONDS) -> bool:
    try:
        import gtts  # noqa: F401, PLC0415  (optional extra)
    except ImportError:
        return False
    try:
        with socket.create_connection(GTTS_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def choose_engine(requested: str) -> str:
    if requested == "espeak":
        return "espeak"
    if gtts_reachable():
        return "gtts"
    if requested == "gtts":
        raise BuildError(
            "gTTS is not installed or its service does not answer; use --engine espeak"
        )
    return "espeak"


def _render_espeak(text: str, lang: str, wav: Path) -> None:
    if shutil.which("espeak-ng") is None:
        raise BuildError("espeak-ng is not installed (make test installs it)")
    subprocess.run(
        ["espeak-ng", "-v", language(lang).espeak_voice, "-s", "150", "-w", str(wav), text],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _render_gtts(text: str, lang: str, wav: Path) -> None:
    from gtts import gTTS  # noqa: PLC0415  (optional extra)

    mp3 = wav.with_suffix(".mp3")
    gTTS(text=text, lang=lang).save(str(mp3))
    subprocess.run(["sox", str(mp3), str(wav)], check=True, capture_output=True, timeout=60)


def _to_sln(wav: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    subprocess.run(
        [
            "sox",
            str(wav),
            "-t",
            "raw",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(tmp),
            *_FILTER,
            *_TRIM,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tmp.replace(out)


def _fingerprint(text: str, engine: str, lang: str) -> str:
    voice = language(lang).espeak_voice if engine == "espeak" else lang
    return hashlib.sha256(f"{FORMAT}|{engine}|{voice}|{text}".encode()).hexdigest()


@dataclass(frozen=True)
class BuildReport:
    lang: str
    engine: str
    built: int
    unchanged: int
    directory: Path


def build_language(
    lang: str,
    *,
    engine: str,
    target: Path,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Build every sound of ``lang`` under ``target/minutecard/<lang>/``; skip unchanged ones."""
    if shutil.which("sox") is None:
        raise BuildError("sox is not installed (make test installs it)")
    out_dir = target / "minutecard" / lang
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    sounds = all_sounds(lang)
    todo = {
        rel: text
        for rel, text in sounds.items()
        if manifest.get(rel) != _fingerprint(text, engine, lang)
        or not (out_dir / f"{rel}.sln").exists()
    }
    render = _render_espeak if engine == "espeak" else _render_gtts
    done = 0

    def one(item: tuple[str, str]) -> str:
        rel, text = item
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "prompt.wav"
            try:
                render(text, lang, wav)
                _to_sln(wav, out_dir / f"{rel}.sln")
            except subprocess.CalledProcessError as exc:
                detail = exc.stderr.decode(errors="replace").strip().splitlines()
                raise BuildError(f"{lang}/{rel}: {detail[-1] if detail else exc}") from exc
        return rel

    with ThreadPoolExecutor(max_workers=4) as pool:
        for rel in pool.map(one, todo.items()):
            manifest[rel] = _fingerprint(sounds[rel], engine, lang)
            done += 1
            if progress:
                progress(done, len(todo))
    manifest = {rel: manifest[rel] for rel in sounds if rel in manifest}
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return BuildReport(lang, engine, len(todo), len(sounds) - len(todo), out_dir)
