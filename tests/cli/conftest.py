"""cardadmin tests run on a new database (SQLite and PostgreSQL) with the test PIN secret."""

from __future__ import annotations

import pytest

from testbed.astro import SECRET


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MINUTECARD_DATABASE_URL", db_url)
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET.decode())
    return db_url
