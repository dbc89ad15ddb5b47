"""The settle journal: settlements the database could not take, kept in a local append-only
file (one JSON object a line, fsynced) until ``replay`` applies them.

Settling is idempotent per call id, so a line applied twice (a crash between apply and
rewrite) bills once.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from cards.db import DATA_DIR_ENV, Database
from cards.errors import CardsError
from cards.services.calls import Settlement, settle

log = logging.getLogger("minutecard.journal")

JOURNAL_ENV = "MINUTECARD_JOURNAL"
STORAGE_ERRORS = (OSError, SQLAlchemyError)
"""What a database that is away raises (refused connection, lost connection, locked file)."""


def default_path() -> Path:
    """``MINUTECARD_JOURNAL``, else ``settle-journal.jsonl`` in the data directory."""
    explicit = os.environ.get(JOURNAL_ENV)
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(DATA_DIR_ENV, "data")) / "settle-journal.jsonl"


@dataclass(frozen=True)
class ReplayResult:
    applied: int
    left: int


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, settlement: Settlement) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(settlement.to_json(), sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def pending(self) -> list[Settlement]:
        """The settlements not yet applied; a line that cannot be read stops with its number."""
        if not self.path.exists():
            return []
        out = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(Settlement.from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError, CardsError) as exc:
                raise CardsError(f"journal {self.path} line {number}: {exc}") from exc
        return out

    async def replay(self, db: Database) -> ReplayResult:
        """Apply every pending settlement; keep (in order) those the database still refuses."""
        pending = self.pending()
        if not pending:
            return ReplayResult(0, 0)
        left: list[Settlement] = []
        for settlement in pending:
            if left:
                left.append(settlement)
                continue
            try:
                await settle(db, settlement)
            except STORAGE_ERRORS as exc:
                log.warning("journal: call %s not applied yet: %s", settlement.call_id, exc)
                left.append(settlement)
        self._rewrite(left)
        return ReplayResult(len(pending) - len(left), len(left))

    def _rewrite(self, keep: list[Settlement]) -> None:
        if not keep:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as out:
            out.writelines(json.dumps(s.to_json(), sort_keys=True) + "\n" for s in keep)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o600)
        tmp.replace(self.path)
