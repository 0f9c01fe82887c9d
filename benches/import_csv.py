#!/usr/bin/env python3
"""Writes an import file of N members in docs/IMPORT.md's CSV layout to stdout.

Each member has the shape `benches/benches/import.rs` times: one principal lot (origin store
one of 20), one bonus lot, one point lot and one package of 10 sessions, each lapsing 1-400
days after --as-of. Deterministic for a seed, so a figure can be reproduced.

    python3 benches/import_csv.py 1000000 > members.csv
    memberledger --db ./ledger init
    /usr/bin/time -v memberledger --db ./ledger import members.csv --as-of 2026-01-01T00:00:00Z
"""

import argparse
import datetime
import random
import sys

HEADER = "member,home_store,tier,kind,amount,points,sessions,service,origin_store,expires_at"


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("members", type=int)
    p.add_argument("--as-of", default="2026-01-01T00:00:00Z")
    p.add_argument("--seed", type=int, default=15)
    a = p.parse_args()
    rng = random.Random(a.seed)
    as_of = datetime.datetime.strptime(a.as_of, "%Y-%m-%dT%H:%M:%SZ")

    def later():
        return (as_of + datetime.timedelta(days=rng.randint(1, 400))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def store():
        return f"S{rng.randrange(20)}"

    out = sys.stdout
    out.write(HEADER + "\n")
    for i in range(a.members):
        m, home = f"M{i:07d}", store()
        principal = money(rng.randrange(100, 500_000))
        bonus = money(rng.randrange(100, 50_000))
        points = rng.randint(1, 10_000)
        price = money(rng.randrange(1_000, 30_000))
        out.write(
            f"{m},{home},,principal,{principal},,,,{store()},\n"
            f"{m},{home},,bonus,{bonus},,,,,{later()}\n"
            f"{m},{home},,points,,{points},,,,{later()}\n"
            f"{m},{home},,package,{price},,10,facial,,{later()}\n"
        )


if __name__ == "__main__":
    main()
