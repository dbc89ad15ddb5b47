"""``cardadmin quote`` in both output forms, and its one-line refusals with exit status 2."""

from __future__ import annotations

import json

import pytest

from admin_cli.main import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_quote_seconds_json(capsys) -> None:
    code, out, _ = run(
        capsys, "quote", "--price", "1.99", "--increments", "60/60", "--seconds", "61", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert (data["billed_seconds"], data["cost"]) == (120, 39_800)


def test_quote_seconds_table_decimal_comma_fee_free(capsys) -> None:
    code, out, _ = run(
        capsys,
        "quote",
        "--price",
        "1,99",
        "--increments",
        "60/60",
        "--seconds",
        "71",
        "--connect-fee",
        "0,10",
        "--free",
        "10",
    )
    assert code == 0
    assert "4.08 EUR" in out
    assert "120" in out


def test_quote_credit_with_warning(capsys) -> None:
    code, out, _ = run(
        capsys,
        "quote",
        "--price",
        "1.99",
        "--increments",
        "60/60",
        "--credit",
        "10.00",
        "--warn",
        "120",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["affordable_seconds"] == 300
    assert data["warning_at_second"] == 180


def test_quote_minute_card(capsys) -> None:
    code, out, _ = run(
        capsys,
        "quote",
        "--unit",
        "minutes",
        "--increments",
        "60/1",
        "--multiplier",
        "2",
        "--credit-minutes",
        "30",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["affordable_seconds"] == 900


def test_quote_mobile_table(capsys) -> None:
    code, out, _ = run(
        capsys,
        "quote",
        "--price",
        "2.99",
        "--increments",
        "1/1",
        "--seconds",
        "60",
        "--class",
        "mobile",
    )
    assert code == 0
    assert "mobile" in out
    assert "2.99 EUR" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--price", "-1", "--increments", "60/60", "--seconds", "1"],
        ["--price", "abc", "--increments", "60/60", "--seconds", "1"],
        ["--price", "1", "--increments", "60/0", "--seconds", "1"],
        ["--price", "1", "--increments", "60/60", "--seconds", "1", "--credit", "3"],
        ["--price", "1", "--increments", "60/60"],
        ["--price", "1", "--increments", "60/60", "--seconds", "-5"],
        ["--price", "1", "--increments", "60/60", "--seconds", "1.5"],
        ["--price", "1", "--increments", "60/60", "--seconds", "1", "--free", "15"],
        ["--price", "1.99999", "--increments", "60/60", "--seconds", "1"],
        ["--increments", "60/60", "--seconds", "1"],
        ["--unit", "minutes", "--increments", "60/60", "--credit", "3"],
        ["--price", "1", "--increments", "60/60", "--seconds", "1", "--nope"],
    ],
)
def test_quote_bad_input_is_one_line_exit_2(capsys, args: list[str]) -> None:
    code, out, err = run(capsys, "quote", *args)
    assert code == 2
    assert out == ""
    assert err.startswith("cardadmin: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
