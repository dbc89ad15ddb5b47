"""The engine tests' world: the engine against the fake ARI, on SQLite, with the fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testbed.engine_world import World, running_engine


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_engine(f"sqlite+aiosqlite:///{tmp_path / 'engine.sqlite3'}", tmp_path) as w:
        yield w
