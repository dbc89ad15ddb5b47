"""Input cardadmin cannot mean is refused in one line, exit 2, the database untouched — the same
on SQLite and PostgreSQL: non-ASCII digits, extensions, huge integers, blanks, zero amounts, text
longer than its column, and (by hypothesis) any string or integer in any argument."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_cli.main import main
from tests.cli.helpers import refused, setup_money_project

HUGE = "99999999999999999999"


@pytest.fixture
def serial(cli_env: str, capsys, tmp_path: Path) -> str:
    return setup_money_project(capsys, tmp_path)[0]["serial"]


def classes(serial: str) -> list[tuple[list[str], str]]:
    """(arguments, what the one error line must say)."""
    return [
        (["topup", serial, "١٥"], "not an amount in EUR"),
        (["cards", "create", "--project", "astro", "--count", "١٥", "--amount", "10"], "0-9"),
        (["number", "add", "٠٣٠١٢٣٤٥٦", "--project", "astro", "--role", "card"], "0-9"),
        (["number", "add", "+4930123456;ext=12", "--project", "astro", "--role", "card"], "0-9"),
        (["number", "add", "030 123456 x12", "--project", "astro", "--role", "card"], "0-9"),
        (["cards", "create", "--project", "astro", "--count", HUGE, "--amount", "10"], "at most"),
        (["project", "show", HUGE], "no project"),
        (["tariff", "set", "--project", "astro", "--increments", f"{HUGE}/1", "--price", "1"],
         "increments must look like"),
        (["card", "show", HUGE], "no card"),
        (["tariff", "set", "--project", "astro", "--increments", "60/1", "--price", "1",
          "--max-call-seconds", HUGE], "at most"),
        (["number", "add", "089 12345679", "--project", "astro", "--role", "card",
          "--first-caller-days", HUGE], "at most"),
        (["project", "create", "   ", "--unit", "money"], "must not be blank"),
        (["project", "create", "x" * 81, "--unit", "money"], "at most 80"),
        (["project", "create", "a\nb", "--unit", "money"], "control character"),
        (["project", "create", "zero", "--unit", "money", "--denomination", "0"], "more than zero"),
        (["number", "add", "089 12345679", "--project", "astro", "--role", "advisor",
          "--destination", " ", "--tariff", "standard"], "destination"),
        (["topup", serial, "25", "--idempotency-key", ""], "idempotency key"),
        (["topup", serial, "25", "--idempotency-key", "k" * 121], "idempotency key"),
        (["adjust", serial, "-1", "--reason", " "], "reason must not be blank"),
        (["cards", "create", "--project", "astro", "--count", "1", "--amount", "10",
          "--label", "l" * 121], "at most 120"),
    ]  # fmt: skip


def test_each_class_of_bad_input_is_one_clear_refusal(serial: str, capsys) -> None:
    for args, says in classes(serial):
        err = refused(capsys, *args)
        assert says in err, (args, err)
        assert len(err) < 300, err


def test_a_line_move_names_the_card_that_lost_the_line(
    cli_env: str, capsys, tmp_path: Path
) -> None:
    first, second = (c["serial"] for c in setup_money_project(capsys, tmp_path)[:2])
    assert main(["line", "move", first, "030", "123456"]) == 0
    capsys.readouterr()
    err = refused(capsys, "line", "move", second, "030 123456")
    assert f"bound to card {first}: add --force" in err
    assert main(["line", "move", second, "030 123456", "--force"]) == 0
    out = capsys.readouterr().out
    assert f"card {second} moved from no line to +4930123456" in out
    assert f"card {first} lost +4930123456 and has no line now" in out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_quoted_input_is_cut_to_80_characters(serial: str, capsys) -> None:
    err = refused(capsys, "topup", serial, "9" * 5000)
    assert "9" * 81 not in err and "…" in err


def snapshot(url: str) -> list[str]:
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


ARGS = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", " ", "0", "-1", "1e3", "1.5", "١٥", "+49", "\n", "25 €", "60/0"]),
)
TEMPLATES = [
    "topup {s} {x}", "topup {x} 25", "topup {s} 25 --idempotency-key {x}",
    "adjust {s} {x} --reason r", "adjust {s} -1 --reason {x}",
    "cards create --project astro --count {x} --amount 10",
    "cards create --project {x} --count 1 --amount 10",
    "number add {x} --project astro --role card",
    "project create {x} --unit money", "tariff set --project astro --increments {x} --price 1",
    "tariff set --project astro --increments 60/1 --price {x}",
    "tariff set --project astro --increments 60/1 --price 1 --max-call-seconds {x}",
    "card show {x}", "card block {x}", "line move {s} {x}", "line show {x}",
    "transactions --card {x}", "transactions --caller {x}", "transactions --card {s} --since {x}",
    "quote --price {x} --increments 60/60 --seconds 61", "project show {x}",
    "number remove {x}", "tariff show --project astro --name {x}",
]  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(template=st.sampled_from(TEMPLATES), value=ARGS)
def test_any_argument_is_answered_or_refused_and_a_refusal_changes_nothing(
    serial: str, cli_env: str, capsys, template: str, value: str
) -> None:
    args = [value if part == "{x}" else serial if part == "{s}" else part
            for part in template.split()]  # fmt: skip
    before = snapshot(cli_env)
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 2), (args, code, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.startswith("cardadmin: error: ") and err.count("\n") == 1, err
        assert snapshot(cli_env) == before, args
