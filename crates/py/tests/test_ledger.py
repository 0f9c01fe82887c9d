"""The Python adapter: types out, errors as classes with codes, every call, threads."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Union

import pytest

import memberledger
from memberledger import (
    ConflictError,
    InvalidError,
    Ledger,
    LedgerError,
    NotFoundError,
    RefusedError,
    StorageError,
)

N = 0


def cmd(at: Union[str, datetime], type: str, **fields: Any) -> Dict[str, Any]:
    global N
    N += 1
    return {"id": f"0a000000-0000-4000-8000-{N:012d}", "at": at, "type": type, **fields}


def funded() -> Ledger:
    ledger = Ledger.in_memory()
    ledger.execute(cmd("2026-03-01T10:00:00Z", "enroll", member="M1", store="S1"))
    ledger.execute(
        cmd("2026-03-01T10:05:00Z", "recharge", member="M1", store="S1", amount="1000.00")
    )
    ledger.execute(
        cmd("2026-03-02T15:00:00Z", "consume", member="M1", store="S2", amount="300.00")
    )
    return ledger


def test_amounts_are_decimals_times_aware_datetimes_and_points_ints() -> None:
    m1 = funded().member("M1")
    assert m1["principal"] == Decimal("739.13") and isinstance(m1["principal"], Decimal)
    assert m1["bonus"] == Decimal("110.87")
    assert m1["points"] == 260 and isinstance(m1["points"], int)
    assert m1["member"] == "M1" and m1["home_store"] == "S1"
    expires = m1["lots"][1]["expires_at"]
    assert isinstance(expires, datetime) and expires.tzinfo is not None


def test_ids_that_look_like_amounts_stay_text() -> None:
    ledger = Ledger.in_memory()
    ledger.execute(cmd("2026-03-01T10:00:00Z", "enroll", member="12.50", store="10.00"))
    view = ledger.member("12.50")
    assert view["member"] == "12.50" and view["home_store"] == "10.00"


def test_a_command_may_be_a_dict_with_decimals_and_datetimes_or_json() -> None:
    ledger = Ledger.in_memory()
    at = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    receipt = ledger.execute(cmd(at, "enroll", member="M1", store="S1"))
    assert receipt["ok"] is True and receipt["replayed"] is False
    assert receipt["events"][0]["at"] == at
    again = json.dumps(cmd("2026-03-01T11:00:00Z", "recharge", member="M1", store="S1",
                           amount="10.00"))
    assert ledger.execute(again)["ok"]
    ledger.execute(cmd("2026-03-01T12:00:00Z", "consume", member="M1", store="S1",
                       amount=Decimal("1.50")))
    assert ledger.member("M1")["principal"] == Decimal("8.50")


def test_a_retry_returns_the_original_receipt() -> None:
    ledger = Ledger.in_memory()
    enroll = cmd("2026-03-01T10:00:00Z", "enroll", member="M1", store="S1")
    first = ledger.execute(enroll)
    again = ledger.execute(enroll)
    assert again["replayed"] is True and again["events"] == first["events"]


@pytest.mark.parametrize(
    "command, cls, code",
    [
        ("not json", InvalidError, "invalid_command"),
        ({"id": "x"}, InvalidError, "invalid_command"),
        (cmd("2026-03-03T10:00:00Z", "consume", member="M1", store="S1", amount="5000.00"),
         RefusedError, "insufficient_balance"),
        (cmd("2026-03-03T10:00:00Z", "consume", member="M9", store="S1", amount="1.00"),
         NotFoundError, "member_not_found"),
        (cmd("2026-03-03T10:00:00Z", "enroll", member="M1", store="S1"),
         ConflictError, "member_exists"),
        (cmd("2026-03-01T00:00:00Z", "consume", member="M1", store="S1", amount="1.00"),
         ConflictError, "out_of_order"),
        (cmd("2999-01-01T00:00:00Z", "consume", member="M1", store="S1", amount="1.00"),
         RefusedError, "future_time"),
        (cmd("2026-03-03T10:00:00Z", "recharge", member="M1", store="S1", amount="1.001"),
         InvalidError, "invalid_amount"),
    ],
)
def test_each_failure_raises_its_family_class_with_the_stable_code(
    command: Any, cls: type, code: str
) -> None:
    ledger = funded()
    before = ledger.verify()["events"]
    with pytest.raises(cls) as caught:
        ledger.execute(command)
    assert isinstance(caught.value, LedgerError)
    assert caught.value.code == code and caught.value.message
    assert ledger.verify()["events"] == before  # a refusal records nothing


def test_every_code_maps_to_a_class() -> None:
    assert memberledger.CODES["insufficient_balance"] is RefusedError
    assert memberledger.CODES["storage"] is StorageError
    assert memberledger.CODES["idempotency_conflict"] is ConflictError
    assert all(issubclass(c, LedgerError) for c in memberledger.CODES.values())


def test_a_batch_answers_each_command_in_place() -> None:
    ledger = Ledger.in_memory()
    receipts: List[Dict[str, Any]] = ledger.execute_batch([
        cmd("2026-03-01T10:00:00Z", "enroll", member="B1", store="S1"),
        '{"type":"teleport"}',
        cmd("2026-03-01T10:01:00Z", "consume", member="B1", store="S1", amount="5.00"),
    ])
    assert [r["ok"] for r in receipts] == [True, False, False]
    assert receipts[1]["error"]["code"] == "invalid_command"
    assert receipts[2]["error"]["code"] == "insufficient_balance"
    with pytest.raises(InvalidError) as caught:
        ledger.execute_batch([])
    assert caught.value.code == "batch_too_large"


def test_member_as_of_a_time() -> None:
    ledger = funded()
    then = ledger.member("M1", as_of=datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    assert then["principal"] == Decimal("1000.00")
    assert ledger.member("M1", as_of="2026-03-01T12:00:00Z") == then
    with pytest.raises(NotFoundError):
        ledger.member("M1", as_of="2026-02-01T00:00:00Z")
    with pytest.raises(InvalidError):
        ledger.member("M1", as_of=datetime(2026, 3, 1))  # no time zone
    with pytest.raises(InvalidError) as caught:
        ledger.member("bad id!")
    assert caught.value.code == "invalid_id"


def test_statement_has_running_balances() -> None:
    st = funded().statement("M1", start="2026-03-02T00:00:00Z")
    assert st["opening"]["principal"] == Decimal("1000.00")
    assert [line["kind"] for line in st["lines"]] == ["consumed"]
    assert st["closing"]["principal"] == Decimal("739.13")
    with pytest.raises(InvalidError):
        funded().statement("M1", start="2026-03-05T00:00:00Z", end="2026-03-01T00:00:00Z")


def test_verify_export_and_policy(tmp_path: Path) -> None:
    ledger = funded()
    report = ledger.verify()
    assert report["problem"] is None and report["events"] >= 4
    n = ledger.export("jsonl", tmp_path / "export.jsonl")
    assert n == report["events"]
    assert len((tmp_path / "export.jsonl").read_text().splitlines()) == n
    with pytest.raises(InvalidError):
        ledger.export("pdf", tmp_path / "x.pdf")
    with pytest.raises(StorageError) as caught:
        ledger.export("csv", tmp_path / "no" / "such" / "dir.csv")
    assert caught.value.code == "io"
    policy = ledger.policy()
    assert policy["version"] == 1 and policy["effective_at"] is None
    assert "tiers" in policy["policy"] or policy["policy"]


def test_open_creates_then_reopens_with_its_founding_policy(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    rules = Ledger.in_memory().policy()["policy"]
    text = json.dumps(rules, default=str)
    ledger = Ledger.open(path, policy=text)
    ledger.execute(cmd("2026-03-01T10:00:00Z", "enroll", member="M1", store="S1"))
    del ledger
    again = Ledger.open(str(path), policy=text)
    assert again.member("M1")["member"] == "M1"
    del again
    other = dict(json.loads(text), currency="XXX")
    with pytest.raises(InvalidError) as caught:
        Ledger.open(path, policy=other)
    assert caught.value.code == "invalid_policy"
    with pytest.raises(InvalidError):
        Ledger.in_memory(policy="{not a policy")


def test_eight_threads_on_shared_members_lose_no_update() -> None:
    ledger = Ledger.in_memory()
    for m in ("T1", "T2"):
        ledger.execute(cmd("2026-04-01T09:00:00Z", "enroll", member=m, store="S1"))
    per_thread = 24
    failures: List[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                ledger.execute({
                    "id": f"7e000000-0000-4000-8000-{t:04d}{i:08d}",
                    "at": "2026-04-01T10:00:00Z", "type": "adjust",
                    "member": f"T{1 + i % 2}", "store": "S1", "balance": "points",
                    "direction": "credit", "points": 1, "reason": "thread test",
                    "operator": "E1",
                })
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert ledger.member("T1")["points"] == 8 * per_thread // 2
    assert ledger.member("T2")["points"] == 8 * per_thread // 2
    assert ledger.verify()["problem"] is None
