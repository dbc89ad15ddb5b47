"""The real TTS build with espeak-ng and sox: 8 kHz mono s16 files of plausible length."""

from __future__ import annotations

import array
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from admin_cli.main import main
from prompts import LANGUAGES
from prompts.build import build_language
from prompts.catalogue import PROMPTS, PromptId
from prompts.sentences import all_sounds

FRAME = 160  # 20 ms at 8 kHz
RAW_8K = ["-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16", "-c", "1"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sounds")
    for lang in LANGUAGES:
        report = build_language(lang, engine="espeak", target=target)
        assert report.built == len(all_sounds(lang))
    return target


def stat(path: Path) -> dict[str, str]:
    """sox's reading of a raw file as 8 kHz mono s16."""
    proc = subprocess.run(
        [
            "sox",
            *RAW_8K,
            str(path),
            "-n",
            "stat",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = (line.split(":", 1) for line in proc.stderr.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in rows}


def speech_shape(data: bytes) -> tuple[float, int]:
    """The share of 20 ms frames whose peak passes 2 % of full scale, and the longest run of
    quieter frames between the first and the last such frame, in ms."""
    samples = array.array("h", data)
    loud = [
        max(abs(x) for x in samples[i : i + FRAME]) > 655
        for i in range(0, len(samples) - FRAME + 1, FRAME)
    ]
    if True not in loud:
        return 0.0, 0
    first, last = loud.index(True), len(loud) - 1 - loud[::-1].index(True)
    run = longest = 0
    for frame in loud[first : last + 1]:
        run = 0 if frame else run + 1
        longest = max(longest, run)
    return sum(loud) / len(loud), longest * 20


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sound_is_built_and_plausible(built: Path, lang: str) -> None:
    for rel, text in all_sounds(lang).items():
        path = built / "minutecard" / lang / f"{rel}.sln"
        data = path.read_bytes()
        assert len(data) % 2 == 0, rel
        seconds_x1000 = len(data) * 1000 // (2 * 8000)
        # espeak-ng at 150 wpm says 8–20 characters a second; at 22 kHz the same file would
        # read almost three times longer and fail the upper bound.
        # Below 40 ms a character (espeak-ng's fastest here is 50) a render was cut short.
        assert 40 * len(text) <= seconds_x1000 <= 250 + 130 * len(text), (rel, seconds_x1000)
        voiced, pause_ms = speech_shape(data)
        # Speech, not a click or a stall: most 20 ms frames carry sound, and no pause inside is
        # longer than a second (espeak-ng's pauses between sentences are 0.1-0.7 s).
        assert voiced >= 0.5 and pause_ms <= 1_000, (rel, voiced, pause_ms)
        # Normalised to -3 dBFS before the final resampling: loud, never clipped, never silent.
        peak = Decimal(stat(path)["Maximum amplitude"])
        assert Decimal("0.3") < peak < 1, (rel, peak)


def test_wav_source_is_resampled_to_8k(built: Path, tmp_path: Path) -> None:
    """Round trip: wrap a built file as wav and let soxi read rate, channels and bits."""
    raw = built / "minutecard" / "de" / "remaining.sln"
    wav = tmp_path / "check.wav"
    subprocess.run(
        [
            "sox",
            *RAW_8K,
            str(raw),
            str(wav),
        ],
        check=True,
    )
    info = subprocess.run(["soxi", str(wav)], capture_output=True, text=True, check=True).stdout
    assert "Sample Rate    : 8000" in info
    assert "Channels       : 1" in info
    assert "16-bit Signed Integer PCM" in info


def test_rebuild_renders_only_what_changed(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    again = build_language("de", engine="espeak", target=built)
    assert (again.built, again.unchanged) == (0, len(all_sounds("de")))
    monkeypatch.setitem(PROMPTS, PromptId.GOODBYE, {"de": "Tschüss und bis bald.", "en": "Bye."})
    changed = build_language("de", engine="espeak", target=built)
    assert changed.built == 1
    (built / "minutecard" / "de" / "num" / "n7.sln").unlink()
    missing = build_language("de", engine="espeak", target=built)
    assert missing.built == 1


def test_cli_build_and_text(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "prompts",
                "build",
                "--lang",
                "de",
                "--engine",
                "espeak",
                "--sounds-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert f"de: {len(all_sounds('de'))} built" in capsys.readouterr().out
    assert (tmp_path / "minutecard" / "de" / "warning.sln").stat().st_size > 8000
    assert main(["prompts", "text", "remaining", "--minutes", "21", "--lang", "de"]) == 0
    assert capsys.readouterr().out == "Sie haben noch einundzwanzig Minuten Guthaben.\n"
    assert main(["prompts", "text", "nope"]) == 2
