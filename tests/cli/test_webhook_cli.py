"""``cardadmin webhook`` on SQLite and PostgreSQL (issue 25 item 5): add with a generated secret
shown once, list without secrets, deliveries with their tries, redeliver, remove; audited."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import ok, refused, setup_money_project

URL = "http://127.0.0.1:9/hooks"


def test_webhooks_are_added_listed_delivered_again_and_removed(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    card = setup_money_project(capsys, tmp_path)[0]["serial"]
    events = "topup.credited,card.low_balance"
    added = json.loads(ok(capsys, "webhook", "add", "--project", "astro", URL, "--events",
                          events, "--low-balance", "5 €", "--json"))  # fmt: skip
    assert added["secret"].startswith("whsec_") and len(added["secret"]) > 40
    assert added["low_balance"] == 50_000
    listed = json.loads(ok(capsys, "webhook", "list", "--project", "astro", "--json"))
    assert [h["url"] for h in listed] == [URL] and "secret" not in listed[0]
    ok(capsys, "topup", card, "25")
    [delivery] = json.loads(ok(capsys, "webhook", "deliveries", str(added["id"]), "--json"))
    assert (delivery["type"], delivery["state"], delivery["tries"]) == (
        "topup.credited",
        "pending",
        [],
    )
    assert "pending already" in refused(capsys, "webhook", "redeliver", str(delivery["id"]))
    assert "topup.credited" in ok(capsys, "webhook", "deliveries", str(added["id"]))
    ok(capsys, "webhook", "remove", str(added["id"]))
    assert json.loads(ok(capsys, "webhook", "list", "--project", "astro", "--json")) == []
    history = ok(capsys, "history", "--project", "astro")
    assert "webhook_add" in history and "webhook_remove" in history


def test_bad_webhooks_are_refused_in_one_line(cli_env: str, capsys, tmp_path: Path) -> None:
    setup_money_project(capsys, tmp_path)
    for args, said in [
        (["ftp://x/y", "--events", "topup.credited"], "http(s) URL"),
        ([URL, "--events", "topup.sent"], "not topup.sent"),
        ([URL, "--events", "card.low_balance"], "--low-balance"),
        ([URL, "--events", "topup.credited", "--secret", "short"], "16 to 200"),
    ]:
        assert said in refused(capsys, "webhook", "add", "--project", "astro", *args)
    assert "no webhook 7" in refused(capsys, "webhook", "deliveries", "7")
