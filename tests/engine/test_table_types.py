"""The call table's rows are typed: mypy rejects a row whose handler takes another event than
the one it is keyed by (issue 27: a table row could pair an event with the wrong handler)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = """
from pbx_engine.call import events as ev
from pbx_engine.call import flow_common as com
from pbx_engine.call import flow_pin as pin
from pbx_engine.call.transitions import on
from pbx_engine.call.types import State as S

RIGHT = on(ev.Digit, pin.on_pin_digit, S.COLLECTING_PIN)
WRONG = on(ev.Started, pin.on_pin_digit, S.COLLECTING_PIN)
ANY_EVENT = on(ev.Hangup, com.on_hangup_unbridged, S.DONE)
"""


def test_mypy_rejects_a_row_whose_handler_takes_another_event(tmp_path: Path) -> None:
    module = tmp_path / "rows.py"
    module.write_text(ROWS)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(module)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout
    assert "rows.py:9:" in errors[0] and "Digit" in errors[0] and "Started" in errors[0], errors
