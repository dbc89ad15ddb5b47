"""A project's PINs are made and checked under one secret: its fingerprint is recorded (never
the secret), another secret is refused, and secrets that guess themselves are refused."""

from __future__ import annotations

import pytest

from cards.db import Database
from cards.errors import InvalidInput
from cards.pins import fingerprint, pin_secret
from cards.services import activation, cardbatch, projects
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

OTHER = b"another-secret-for-pins-98765"


async def test_cards_under_another_secret_are_refused(db: Database) -> None:
    [card] = await project_with_cards(db)
    project = await projects.get_project(db, "astro")
    assert project.pin_key == fingerprint(SECRET)
    assert SECRET.decode() not in project.pin_key
    with pytest.raises(InvalidInput, match="not the secret its PINs were made with"):
        await cardbatch.create_cards(db, "astro", 1, 600, secret=OTHER)
    with pytest.raises(InvalidInput, match="not the secret"):
        await activation.activate(db, "astro", "+4930123456", card.pin, secret=OTHER)
    done = await activation.activate(db, "astro", "+4930123456", card.pin, secret=SECRET)
    assert done.status is activation.Activation.ACTIVATED
    assert len(await cardbatch.create_cards(db, "astro", 2, 600, secret=SECRET)) == 2


@pytest.mark.parametrize("value", ["a" * 20, " " * 20, "\t" * 16, "short"])
def test_secrets_that_guess_themselves_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        pin_secret(value)


def test_a_fingerprint_names_one_secret() -> None:
    assert fingerprint(SECRET) == fingerprint(bytes(SECRET))
    assert fingerprint(SECRET) != fingerprint(OTHER)
    assert len(fingerprint(SECRET)) == 16
