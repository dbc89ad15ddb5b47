"""Database trouble is one line, exit 2: a refused connection, a URL without an async driver,
a data directory that cannot be made, a database never upgraded. Only `db upgrade` makes a
SQLite file, private (0600 in a 0700 directory)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from testbed.astro import SECRET
from testbed.postgres import free_port
from tests.cli.helpers import ok, refused


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MINUTECARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("MINUTECARD_PIN_SECRET", SECRET.decode())
    target = tmp_path / "state" / "data"
    monkeypatch.setenv("MINUTECARD_DATA_DIR", str(target))
    return target


def test_db_upgrade_makes_a_private_file_and_reads_make_none(capsys, data_dir: Path) -> None:
    err = refused(capsys, "project", "list")
    assert "no database at" in err and "run `cardadmin db upgrade` first" in err
    assert not data_dir.exists()
    ok(capsys, "db", "upgrade")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "minutecard.sqlite3").stat().st_mode) == 0o600
    ok(capsys, "project", "list")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres@127.0.0.1/x", "use postgresql+asyncpg://"),
        ("mysql+aiomysql://u@h/db", "use postgresql+asyncpg://"),
        ("not a url at all", "is not a URL"),
        (f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x", "database: "),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line(
    capsys, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("MINUTECARD_DATABASE_URL", url)
    err = refused(capsys, "project", "list")
    assert says in err
    assert "db upgrade" not in err


def test_a_data_directory_that_cannot_be_made(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINUTECARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("MINUTECARD_DATA_DIR", "/proc/minutecard")
    assert "database: " in refused(capsys, "db", "upgrade")


def test_the_schema_hint_only_when_the_schema_is_missing(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    monkeypatch.setenv("MINUTECARD_DATABASE_URL", f"sqlite+aiosqlite:///{empty}")
    assert "(did you run `cardadmin db upgrade`?)" in refused(capsys, "project", "list")
