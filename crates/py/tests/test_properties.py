"""Property: a random stream of commands gives the same member views through Python as through
the CLI binary (`memberledger apply`, then `member show --json`)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memberledger
from memberledger import Ledger, LedgerError

MEMBERS = ["M1", "M2", "M3"]
STORES = ["S1", "S2"]

amounts = st.integers(min_value=1, max_value=300_000).map(lambda c: f"{c // 100}.{c % 100:02d}")


@st.composite
def streams(draw: st.DrawFn) -> List[Dict[str, Any]]:
    commands: List[Dict[str, Any]] = []
    n = draw(st.integers(min_value=1, max_value=25))
    for i in range(n):
        minute = i  # times move forward, one minute a command
        base: Dict[str, Any] = {
            "id": f"9a000000-0000-4000-8000-{i:012d}",
            "at": f"2026-03-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
            "member": draw(st.sampled_from(MEMBERS)),
            "store": draw(st.sampled_from(STORES)),
        }
        kind = draw(st.sampled_from(
            ["enroll", "recharge", "consume", "grant_bonus", "redeem_points", "freeze",
             "unfreeze"]))
        if kind in ("recharge", "consume"):
            base["amount"] = draw(amounts)
        elif kind == "grant_bonus":
            base.update(amount=draw(amounts), reason="campaign")
        elif kind == "redeem_points":
            base["points"] = draw(st.integers(min_value=1, max_value=500))
        elif kind in ("freeze", "unfreeze"):
            base["reason"] = "card"
        commands.append({"type": kind, **base})
    return commands


def via_python(commands: List[Dict[str, Any]]) -> Dict[str, Any]:
    ledger = Ledger.in_memory()
    for c in commands:
        try:
            ledger.execute(c)
        except LedgerError:
            pass
    views: Dict[str, Any] = {}
    for m in MEMBERS:
        try:
            views[m] = ledger.member(m)
        except LedgerError as e:
            views[m] = e.code
    return views


def via_cli(cli: Path, commands: List[Dict[str, Any]]) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        db, file = Path(work) / "db", Path(work) / "commands.jsonl"
        file.write_text("".join(json.dumps(c) + "\n" for c in commands))
        subprocess.run([cli, "--db", db, "init"], check=True, capture_output=True)
        applied = subprocess.run([cli, "--db", db, "apply", file], capture_output=True)
        assert applied.returncode in (0, 1), applied.stderr
        views: Dict[str, Any] = {}
        for m in MEMBERS:
            shown = subprocess.run([cli, "--db", db, "member", "show", m, "--json"],
                                   capture_output=True, text=True)
            if shown.returncode == 0:
                views[m] = memberledger._typed(json.loads(shown.stdout))
            else:
                views[m] = shown.stderr.split(":")[1].strip()  # "memberledger: <code>: …"
        return views


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=streams())
def test_random_command_streams_give_the_same_views_as_the_cli(
    cli: Path, commands: List[Dict[str, Any]]
) -> None:
    assert via_python(commands) == via_cli(cli, commands)
