#!/usr/bin/env python3
"""Writes N commands as JSON Lines to stdout: what `memberledger apply` is timed with.

The mix of `compare`'s workload: each member enrols first, then recharges (100.00-2,000.00),
visits (20.00-300.00, of what the member holds) and the odd points redemption, over M members
and S stores, one second apart from 2026-01-01 (ten million commands end in April 2026: a
ledger's clock refuses a command dated after now). Deterministic for a seed, and every command is
accepted, so the figure counts recorded commands.

    python3 benches/commands_jsonl.py 300000 > commands.jsonl
    memberledger --db ./ledger init --store file
    /usr/bin/time -v memberledger --db ./ledger apply commands.jsonl > receipts.jsonl
"""

import argparse
import datetime
import json
import random
import sys


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("commands", type=int)
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--stores", type=int, default=50)
    p.add_argument("--seed", type=int, default=20)
    a = p.parse_args()
    rng = random.Random(a.seed)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    balance = {}
    out = sys.stdout
    for i in range(a.commands):
        at = (start + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        c = {"id": f"c0a1e000-0000-4000-8000-{i:012d}", "at": at,
             "store": f"S{rng.randrange(a.stores):02d}"}
        if i < a.members and len(balance) < a.members:
            member = f"M{i:07d}"
            balance[member] = 0
            c.update(type="enroll", member=member)
        else:
            member = f"M{rng.randrange(len(balance)):07d}"
            spend = rng.randrange(2_000, 30_000)
            if balance[member] >= spend and rng.random() < 0.6:
                balance[member] -= spend
                c.update(type="consume", member=member, amount=money(spend))
            else:
                cents = rng.randrange(10_000, 200_000)
                balance[member] += cents
                c.update(type="recharge", member=member, amount=money(cents))
        out.write(json.dumps(c, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
