"""Where new PINs go: a new file (0600, never over another unless --force) or stdout. The
cards are committed only after the PINs are written; a failed write creates no card."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from admin_cli.errors import OperatorError

HEADER = ("serial", "pin", "value")


class PinsNotDelivered(Exception):
    """Writing the PINs failed; raised inside the batch's transaction, which it rolls back."""


class PinFile:
    """A temporary file beside ``path``, made before the database is touched (so a bad path is
    refused before any card exists) and put in place when the PINs are written."""

    def __init__(self, path: Path, *, force: bool) -> None:
        self.path, self.force = path, force
        if not force and path.exists():
            raise OperatorError(
                f"{str(path)!r} exists: PIN files are never overwritten "
                "(choose a new file, or --force)"
            )
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        except OSError as exc:
            raise OperatorError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
        self.temp = Path(temp)  # mkstemp makes it 0600
        self.handle = os.fdopen(fd, "wb")
        self.placed = False

    def write(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """The PINs as CSV: serial;pin;value."""
        text = io.StringIO(newline="")
        writer = csv.writer(text, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)
        self.place(text.getvalue().encode())

    def place(self, data: bytes) -> None:
        """Write ``data`` (a CSV or a printable PDF sheet) and put the file in place."""
        try:
            self.handle.write(data)
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            if self.force:
                os.replace(self.temp, self.path)
            else:
                os.link(self.temp, self.path)  # fails if the file appeared: no clobbering
                self.temp.unlink()
        except OSError as exc:
            raise PinsNotDelivered(exc.strerror or type(exc).__name__) from exc
        self.placed = True

    def discard(self) -> None:
        """The cards were not created: no file of dead PINs is left behind."""
        self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()
        if self.placed:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def write_stdout(rows: Iterable[tuple[str, str, str]]) -> None:
    def write(target: TextIO) -> None:
        writer = csv.writer(target, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)

    _deliver(write, sys.stdout)


def write_stdout_json(cards: list[dict[str, object]], unit: str, batch: int) -> None:
    """``--json``: the batch's number and its cards with integer values in the project's unit."""
    body = {"unit": unit, "batch": batch, "cards": cards}
    _deliver(lambda target: json.dump(body, target), sys.stdout)


def _deliver(write: Callable[[TextIO], None], target: TextIO) -> None:
    try:
        write(target)
        target.flush()
    except BrokenPipeError as exc:
        silence_stdout()
        raise PinsNotDelivered("nobody read them to the end: broken pipe") from exc
    except OSError as exc:
        raise PinsNotDelivered(exc.strerror or type(exc).__name__) from exc


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
