"""The shared scenario (tests/fixtures/scenario): the outcomes and views the Rust tests and the
C program get, through Python."""

from __future__ import annotations

import json
from pathlib import Path

import memberledger
from memberledger import Ledger, LedgerError


def outcome(ledger: Ledger, line: str) -> str:
    try:
        receipt = ledger.execute(line)
    except LedgerError as e:
        return e.code
    return "replayed" if receipt["replayed"] else "ok"


def test_the_shared_scenario_gives_the_fixture_outcomes_and_views(
    scenario: Path, tmp_path: Path
) -> None:
    ledger = Ledger.open(tmp_path / "ledger")
    lines = (scenario / "commands.jsonl").read_text().splitlines()
    outcomes = [outcome(ledger, line) for line in lines]
    assert outcomes == (scenario / "outcomes.txt").read_text().splitlines()
    for line in (scenario / "members.jsonl").read_text().splitlines():
        want = memberledger._typed(json.loads(line))
        assert ledger.member(want["member"]) == want
    assert ledger.verify()["problem"] is None
