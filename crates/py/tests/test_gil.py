"""The GIL is released while the ledger works: another Python thread runs meanwhile."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Dict, List

from memberledger import Ledger


def enrolls(n: int, offset: int) -> List[Dict[str, Any]]:
    return [
        {"id": f"6a000000-0000-4000-8000-{offset + i:012d}", "at": "2026-03-01T10:00:00Z",
         "type": "enroll", "member": f"G{offset + i}", "store": "S1"}
        for i in range(n)
    ]


def test_other_python_threads_run_while_the_ledger_works() -> None:
    ledger = Ledger.in_memory()
    count = [0]
    done = threading.Event()

    def spin() -> None:
        while not done.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = count[0]
        time.sleep(0.2)  # sleeping releases the GIL: the spinner's rate alone
        rate = (count[0] - before) / 0.2
        # Batches of at most 10,000 commands (the batch limit), until the native calls alone
        # (no Python work in them) add up to half a second; the spinner's count is summed over
        # those calls only.
        n, offset, spent, spun = 1000, 0, 0.0, 0
        while spent < 0.5 and offset < 2_000_000:
            text = json.dumps(enrolls(n, offset))
            offset += n
            start, c0 = time.perf_counter(), count[0]
            ledger._native.execute_batch(text)
            spent, spun = spent + time.perf_counter() - start, spun + count[0] - c0
            n = min(n * 2, 10_000)
    finally:
        done.set()
        spinner.join()
    # Holding the GIL, the spinner would get a switch interval or two (5 ms each) at most: 2%
    # of half a second. Released, it spins the whole call (less what the ledger's threads take).
    assert spun > rate * spent * 0.08, (spun, rate, spent)
