"""What a real Asterisk answers when the engine's command meets a leg, bridge or playback that is
already gone: every such answer is ``AriError.gone`` (the engine logs it at INFO), and an
answer that is not about something gone is not."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable

import pytest

from pbx_engine.ari.client import AriClient, AriError
from testbed.asterisk import ARI_USER, PrivateAsterisk
from testbed.asterisk_versions import selected


@pytest.fixture
async def ari() -> AsyncIterator[AriClient]:
    if not selected().installed():
        if os.environ.get("CI") == "true":
            pytest.fail("Asterisk is not installed (make test installs it)")
        pytest.skip("Asterisk is not installed (make test installs it)")
    asterisk = PrivateAsterisk.prepare("")
    try:
        await asterisk.start()
        async with AriClient(asterisk.ari_url, ARI_USER, asterisk.password, "minutecard") as ari:
            yield ari
    finally:
        asterisk.stop()


async def refusal(action: Awaitable[object]) -> AriError:
    with pytest.raises(AriError) as refused:
        await action
    return refused.value


async def test_commands_on_what_is_gone_are_told_apart(ari: AriClient) -> None:
    await ari.create_bridge("b1")
    gone = [
        await refusal(ari.play(["sound:beep"], "p1", channel="gone")),
        await refusal(ari.play(["sound:beep"], "p2", bridge="gone")),
        await refusal(ari.answer("gone")),
        await refusal(ari.hangup("gone")),
        await refusal(ari.add_to_bridge("b1", ("gone",))),
        await refusal(ari.stop_playback("gone")),
        await refusal(ari.destroy_bridge("gone")),
    ]
    assert [e.gone for e in gone] == [True] * len(gone), [str(e) for e in gone]
    assert "Channel not found" in str(gone[0])
    await ari.create_bridge("b2")
    duplicate_bridge = await refusal(ari.create_bridge("b2"))
    assert not duplicate_bridge.gone, str(duplicate_bridge)
