#!/usr/bin/env python3
"""Verify a memberledger JSONL export without memberledger's code.

Uses only the Python standard library (3.8 or later). Reads an export made with

    memberledger --db DIR export --format jsonl > ledger.jsonl

from a file argument or standard input, and checks, line by line:

  * each line is the canonical JSON of its object (docs/AUDIT.md, "Canonical JSON");
  * positions run 1, 2, 3, ... without a gap;
  * hash_n = SHA-256(hash_{n-1} || canonical JSON of line n without "hash"),
    hash_0 = 32 zero bytes;
  * each event id = UUID v5(namespace = command id, name = index as decimal ASCII);
  * a command's events are consecutive, indexed from 0, of one member, time and store;
  * the schema version: 1 (the 14 original event types, no "policy" field), 2 (with
    "policy", the policy version the event was decided under, >= 1) or 3 (as 2, with the
    types and fields born at 3);
  * each member's events fold: versions 1, 2, 3, ..., times never go back, lots are
    numbered in order, every draw, restore, expiry and refund fits the lots and adds up,
    and every package is bought, redeemed session by session, refunded or expired with
    the figures it holds;
  * the settlements stream ("@stores") folds the same way, and no store settles more
    than it owes the other on the net (inter-store debts recomputed from the draws);
  * the policy stream ("@policy") holds the founding policy's record (version 1: the
    first event of the log, or, in a ledger written before founding records existed,
    appended once later; time 1970-01-01T00:00:00Z, store HQ, command id UUID v5 of its
    policy's canonical JSON in the founding namespace) and publishes versions 2, 3, ...,
    each taking effect at its time, after the previous one and after every event before
    it in the log; and every other event names the version in force at its time (the
    latest published at or before it; 1, the founding policy, when none is). A log
    without a founding record is reported as an old ledger, not a failure.

The fold follows the events' `data` only (it never applies the policy: a published
policy is only checked to be an object), so it recomputes each member's principal,
bonus, points, tier and packages as the ledger holds them.

On success it prints a summary (events, members, held principal/bonus/points, chain
head) and exits 0. On the first failure it prints the position and what is wrong and
exits 1. A usage or I/O error exits 2.

    python3 verify_chain.py ledger.jsonl
    python3 verify_chain.py --json ledger.jsonl        # same shape as `memberledger verify --json`
    python3 verify_chain.py --members ledger.jsonl     # one JSON line per member on stdout
    python3 verify_chain.py --head HASH ledger.jsonl   # also require this chain head (64 hex digits)
    python3 verify_chain.py --policies ledger.jsonl    # one JSON line per policy version, read from the chain

Money is `decimal.Decimal` throughout, with inexact arithmetic trapped: no floats.
"""

import argparse
import decimal
import functools
import hashlib
import json
import re
import sys
import uuid
from datetime import datetime

GENESIS = bytes(32)

# The founding policy's record (docs/EVENTS.md): its fixed time, store and command-id namespace.
FOUNDING_AT = "1970-01-01T00:00:00Z"
FOUNDING_STORE = "HQ"
FOUNDING_NAMESPACE = uuid.UUID("6d656d62-6572-4c65-8467-506f6c696379")
OLD_LEDGER_NOTE = ("founding policy not in the chain (old ledger): version 1 is only in the ledger's "
                   "settings; the next command that opens it to write (anything but verify) records it")
# Schema 1 has no "policy" in the envelope; schemas 2 and 3 have it (docs/EVENTS.md).
SCHEMA_VERSIONS = (1, 2, 3)

# Exact money: any rounding at all raises decimal.Inexact.
MONEY_CONTEXT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])
decimal.setcontext(MONEY_CONTEXT)
ZERO = decimal.Decimal("0.00")

AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]*)\.[0-9]{2}$")
DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
TIME_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{3}|\.[0-9]{6}|\.[0-9]{9})?Z$")
ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")

TOP_KEYS = {"at", "command", "data", "hash", "id", "index", "member", "position", "store", "type", "v", "version"}
TOP_KEYS_V2 = TOP_KEYS | {"policy"}
DRAW_KEYS = {"amount", "expires_at", "kind", "lot", "origin_store"}
RESTORE_KEYS = DRAW_KEYS | {"forfeited"}
DATA_KEYS = {
    "member_enrolled": {"home_store", "tier"},
    "recharged": {"amount", "lot", "staff"},
    "bonus_granted": {"amount", "expires_at", "lot", "reason", "rule"},
    "consumed": {
        "service", "staff", "tier", "price", "discount", "charged", "principal", "bonus",
        "draws", "points_earned", "points_lot", "points_expires_at",
    },
    "consumption_refunded": {
        "consumption", "amount", "principal", "bonus", "restored", "points_reversed", "points_forgiven",
        "service_store",
    },
    "balance_refunded": {"principal", "bonus_forfeited", "bonus_spent", "clawback", "payout", "draws"},
    "tier_changed": {"from", "to", "reason"},
    "bonus_expired": {"lot", "amount", "origin_store", "expires_at"},
    "points_expired": {"lot", "points", "expires_at"},
    "settled": {"amount", "creditor"},
    "member_frozen": {"reason"},
    "member_unfrozen": {"reason"},
    "points_redeemed": {"draws", "points", "reason"},
    "adjusted": {
        "amount", "balance", "direction", "draws", "expires_at", "lot", "operator", "points",
        "points_draws", "reason",
    },
    "package_purchased": {
        "bonus", "cash", "draws", "expires_at", "package", "price", "principal", "service",
        "session_price", "sessions", "staff",
    },
    "session_redeemed": {"amount", "bonus", "origin_store", "package", "principal", "session", "sessions_left", "staff"},
    "package_refunded": {
        "amount", "bonus", "bonus_lot", "bonus_unspent", "expires_at", "lot", "origin_store", "package",
        "principal", "reason", "sessions", "to",
    },
    "package_expired": {"amount", "bonus", "expires_at", "origin_store", "package", "principal", "sessions"},
    "policy_published": {"policy", "version"},
    "period_closed": {"through"},
    "balance_opened": {"bonus", "packages", "points", "principal"},
    "card_linked": {"card"},
    "card_reported_lost": {"card", "reason"},
    "card_replaced": {"new_card", "old_card"},
    "card_unlinked": {"card"},
    "card_used": {"card"},
    "hold_authorized": {"amount", "expires_at", "hold"},
    "hold_captured": {"amount", "captured", "hold", "released"},
    "hold_voided": {"amount", "hold", "reason"},
    "hold_expired": {"amount", "expires_at", "hold"},
    "coupon_issued": {"amount", "cap", "coupon", "expires_at", "kind", "percent", "reason", "threshold"},
    "package_granted": {"expires_at", "package", "reason", "service", "sessions"},
}
# Optional fields born at schema 3, absent when not recorded (refused in an older event).
# The event types of schema 1; the others exist from schema 2 on.
V1_TYPES = frozenset([
    "member_enrolled", "recharged", "bonus_granted", "consumed", "consumption_refunded", "balance_refunded",
    "tier_changed", "bonus_expired", "points_expired", "settled", "member_frozen", "member_unfrozen",
    "points_redeemed", "adjusted",
])

# The event types born at schema 3 (none exists in an older event).
V3_TYPES = frozenset([
    "period_closed", "balance_opened",
    "card_linked", "card_reported_lost", "card_replaced", "card_unlinked", "card_used",
    "hold_authorized", "hold_captured", "hold_voided", "hold_expired",
    "coupon_issued", "package_granted",
])

# The optional fields born at schema 3, left out when absent (none exists in an older event):
# in the envelope, a late command's own time; in data, by type.
V3_TOP_FIELDS = frozenset(["occurred_at"])
V3_DATA_FIELDS = {
    "consumed": frozenset(["external", "points_on", "coupon"]),
    "consumption_refunded": frozenset(["external", "coupon"]),
    "points_redeemed": frozenset(["given"]),
    "balance_refunded": frozenset(["formula"]),
    "adjusted": frozenset(["corrects"]),
    "package_purchased": frozenset(["external"]),
    "package_refunded": frozenset(["external"]),
}
METHOD_RE = re.compile(r"^[a-z0-9_]{1,32}$")
POINTS_ON = ("principal", "principal_and_external", "all")


def born_at_3(obj, fields, v, what):
    """The optional fields born at 3 that obj holds; refused in an older event."""
    present = set(obj) & set(fields)
    if present and v != 3:
        raise Bad("%s: the field %s does not exist at schema %s" % (what, sorted(present)[0], v))
    return present


def external(x, what):
    """An external part {amount, method}: its amount (above zero)."""
    keys(x, {"amount", "method"}, what)
    if not isinstance(x["method"], str) or not METHOD_RE.match(x["method"]):
        raise Bad("%s.method must be 1 to 32 characters of [a-z0-9_]" % what)
    return money(x["amount"], what + ".amount", positive=True)


# A card as recorded: its number (shaped like an id) or "sha256:" and 64 hex digits.
CARD_RE = re.compile(r"^(?:[A-Za-z0-9_.-]{1,64}|sha256:[0-9a-f]{64})$")

# The stream of inter-store settlements, the stream of policy versions; every other stream
# is a member's. Each of the two holds one event type, found nowhere else.
STORES_STREAM = "@stores"
POLICY_STREAM = "@policy"
STREAM_TYPES = {STORES_STREAM: "settled", POLICY_STREAM: "policy_published"}
STREAM_OF = {t: s for s, t in STREAM_TYPES.items()}
STREAM_OF["period_closed"] = POLICY_STREAM  # closed periods are recorded in the policy stream


class Bad(Exception):
    """What is wrong with the event at the current position."""


def canonical(obj):
    """The canonical JSON bytes: sorted keys, no whitespace, non-ASCII as UTF-8."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Bad("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")


# ---------------------------------------------------------------- field readers


def _reject_float(s):
    raise Bad("a number with a fraction or exponent (%s): the log has no floats" % s)


def _reject_constant(s):
    raise Bad("%s is not JSON" % s)


def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise Bad("key %r appears twice in one object" % k)
        obj[k] = v
    return obj


def parse_line(raw):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad("the line is not UTF-8: %s" % e)
    try:
        obj = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise Bad("the line is not JSON: %s" % e)
    if not isinstance(obj, dict):
        raise Bad("the line is not a JSON object")
    return obj


def keys(obj, want, what):
    if not isinstance(obj, dict):
        raise Bad("%s is not an object" % what)
    got = set(obj)
    if got != want:
        missing, extra = sorted(want - got), sorted(got - want)
        raise Bad("%s: missing %s, unexpected %s" % (what, missing or "none", extra or "none"))


def integer(v, what, low=0):
    # bool is a subclass of int in Python: refuse it explicitly.
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        raise Bad("%s must be an integer >= %d, not %s" % (what, low, json.dumps(v)))
    return v


def money(v, what, positive=False):
    if not isinstance(v, str) or not AMOUNT_RE.match(v):
        raise Bad("%s must be an amount string with two decimals, not %s" % (what, json.dumps(v)))
    d = decimal.Decimal(v)
    if positive and d <= 0:
        raise Bad("%s must be above zero, not %s" % (what, v))
    return d


def text(v, what, nullable=False):
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not v:
        raise Bad("%s must be a non-empty string, not %s" % (what, json.dumps(v)))
    return v


def ident(v, what, nullable=False):
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not ID_RE.match(v):
        raise Bad("%s must be an id of 1-64 characters [A-Za-z0-9_.-], not %s" % (what, json.dumps(v)))
    return v


@functools.lru_cache(maxsize=65536)
def _time_key(v):
    """A key that sorts in time order, or a reason the string is not a canonical time."""
    m = TIME_RE.match(v)
    if not m:
        return None, "must be an RFC 3339 UTC time ending in Z"
    s = m.group(1)
    try:
        datetime(int(s[0:4]), int(s[5:7]), int(s[8:10]), int(s[11:13]), int(s[14:16]), int(s[17:19]))
    except ValueError:
        return None, "is not a real date and time"
    digits = (m.group(2) or ".")[1:]
    if digits.endswith("000"):
        return None, "has more fraction digits than it needs (3, 6 or 9, never trailing 000)"
    # Fixed-width UTC fields compare correctly as text; pad the fraction to nanoseconds.
    return (s, digits.ljust(9, "0")), None


def timestamp(v, what, nullable=False):
    """Checks an RFC 3339 UTC time and returns a key that sorts in time order."""
    if v is None and nullable:
        return None
    key, why = _time_key(v) if isinstance(v, str) else (None, "must be an RFC 3339 UTC time ending in Z")
    if key is None:
        raise Bad("%s %s, not %s" % (what, why, json.dumps(v)))
    return key


def uuid_str(v, what):
    try:
        u = uuid.UUID(v)
    except (TypeError, ValueError, AttributeError):
        raise Bad("%s must be a UUID, not %s" % (what, json.dumps(v)))
    if str(u) != v:
        raise Bad("%s must be a lowercase hyphenated UUID, not %s" % (what, v))
    return u


def boolean(v, what):
    if not isinstance(v, bool):
        raise Bad("%s must be true or false, not %s" % (what, json.dumps(v)))
    return v


# ---------------------------------------------------------------- the fold


class Member:
    def __init__(self, member, tier, at):
        self.member = member
        self.tier = tier
        self.version = 1
        self.last_at = at
        self.next_lot = 1
        self.principal_lots = {}  # lot -> [remaining, origin_store, expires_at]
        self.bonus_lots = {}
        self.point_lots = {}  # lot -> [remaining, expires_at]
        self.consumptions = {}  # consume command id -> record
        self.packages = {}  # purchase command id -> Package, open or closed
        self.bonus_spent = ZERO  # bonus drawn by consumptions and package purchases, less given back
        self.frozen = False
        self.cards = {}  # card as recorded -> "active", "lost" or "replaced"
        self.holds = {}  # hold id -> [amount, expires_at key]
        self.coupons = {}  # coupon id -> [expires_at key, redeemed by (consumption id) or None]

    def principal(self):
        return sum((l[0] for l in self.principal_lots.values()), ZERO)

    def bonus(self):
        return sum((l[0] for l in self.bonus_lots.values()), ZERO)

    def points(self):
        return sum(l[0] for l in self.point_lots.values())

    def package_value(self):
        """The value held in open packages (principal_left + bonus_left of each)."""
        return sum((p.value_left() for p in self.packages.values() if p.status == "open"), ZERO)

    def open_package(self, v, what):
        pid = str(uuid_str(v, what))
        p = self.packages.get(pid)
        if p is None or p.status != "open":
            raise Bad("member %s has no open package %s%s"
                      % (self.member, pid, "" if p is None else " (it is %s)" % p.status))
        return p

    def lots(self, kind):
        return self.principal_lots if kind == "principal" else self.bonus_lots

    def new_lot(self, lot, what):
        integer(lot, what, 1)
        if lot != self.next_lot:
            raise Bad("%s is %d; the member's next lot number is %d" % (what, lot, self.next_lot))
        self.next_lot += 1

    def take(self, draw, what):
        """Takes a draw from the lot it names; the draw must describe that lot truly."""
        kind, lot, amount = draw["kind"], draw["lot"], draw["amount"]
        lots = self.lots(kind)
        if lot not in lots:
            raise Bad("%s: member %s has no open %s lot %d" % (what, self.member, kind, lot))
        held, origin, expires = lots[lot]
        if draw["origin_store"] != origin or draw["expires_at"] != expires:
            raise Bad("%s: %s lot %d has origin_store %s and expires_at %s, not what the draw says"
                      % (what, kind, lot, origin, json.dumps(expires)))
        left = held - amount
        if amount <= 0 or left < 0:
            raise Bad("%s: cannot take %s from %s lot %d holding %s" % (what, amount, kind, lot, held))
        if left == 0:
            del lots[lot]
        else:
            lots[lot][0] = left


class Package:
    """A package (sessions of a service) as its events leave it."""

    def __init__(self, pid, origin, sessions, session_price, principal, bonus, expires_at):
        self.package = pid
        self.origin_store = origin
        self.sessions = sessions
        self.sessions_left = sessions
        self.session_price = session_price
        self.principal_left = principal
        self.bonus_left = bonus
        self.expires_at = expires_at  # the string as recorded, or None
        self.bonus_expires_at = None  # the earliest expiry of the bonus lots that paid for it
        self.external = None  # the part paid outside the card ({amount, method}), if any
        # The bonus it drew that still counts in the member's bonus spent: all of it, until a
        # balance refund settles the period it was bought in.
        self.bonus_counted = bonus
        self.status = "open"

    def value_left(self):
        return self.principal_left + self.bonus_left

    def expired_by(self, at_key):
        return self.expires_at is not None and timestamp(self.expires_at, "") <= at_key

    def close(self, status):
        self.status = status
        self.sessions_left = 0
        self.principal_left = ZERO
        self.bonus_left = ZERO


def check_package_left(p, sessions, principal, bonus, origin, amount):
    """A package closed with what it still holds (a refund or an expiry): the figures recorded
    must be the package's, and its two shares must add up to the amount."""
    if (sessions, principal, bonus, origin) != (p.sessions_left, p.principal_left, p.bonus_left, p.origin_store):
        raise Bad("package %s holds %d sessions, principal %s, bonus %s from %s, not %d, %s, %s from %s"
                  % (p.package, p.sessions_left, p.principal_left, p.bonus_left, p.origin_store,
                     sessions, principal, bonus, origin))
    if principal + bonus != amount:
        raise Bad("principal %s + bonus %s is not the amount %s" % (principal, bonus, amount))


def read_draws(draws, what):
    if not isinstance(draws, list):
        raise Bad("%s must be a list" % what)
    out = []
    for i, d in enumerate(draws):
        w = "%s[%d]" % (what, i)
        keys(d, DRAW_KEYS, w)
        kind = d["kind"]
        if kind not in ("principal", "bonus"):
            raise Bad("%s.kind must be principal or bonus, not %s" % (w, json.dumps(kind)))
        out.append({
            "lot": integer(d["lot"], w + ".lot", 1),
            "kind": kind,
            "amount": money(d["amount"], w + ".amount", positive=True),
            "origin_store": ident(d["origin_store"], w + ".origin_store"),
            "expires_at": d["expires_at"],
        })
        timestamp(d["expires_at"], w + ".expires_at", nullable=True)
    return out


def take_points(m, draws, what):
    """Takes each `{lot, points}` draw from the member's point lots; returns the total."""
    if not isinstance(draws, list):
        raise Bad("%s must be a list" % what)
    taken = 0
    for i, draw in enumerate(draws):
        keys(draw, {"lot", "points"}, "%s[%d]" % (what, i))
        lot = integer(draw["lot"], "%s[%d].lot" % (what, i), 1)
        n = integer(draw["points"], "%s[%d].points" % (what, i), 1)
        held = m.point_lots.get(lot)
        if held is None or held[0] < n:
            raise Bad("point lot %d cannot give %d points" % (lot, n))
        held[0] -= n
        if held[0] == 0:
            del m.point_lots[lot]
        taken += n
    return taken


def sum_kind(items, kind):
    return sum((d["amount"] for d in items if d["kind"] == kind), ZERO)


def take_draws(m, draws, principal, bonus, at_key):
    """Takes a payment's draws (read by read_draws) from the member's lots: they must add up to
    the principal and bonus paid, and spend no bonus lot already expired."""
    for k, want in (("principal", principal), ("bonus", bonus)):
        if sum_kind(draws, k) != want:
            raise Bad("the %s draws add up to %s, not %s" % (k, sum_kind(draws, k), want))
    for i, dr in enumerate(draws):
        if dr["kind"] == "bonus" and dr["expires_at"] is not None and timestamp(dr["expires_at"], "") <= at_key:
            raise Bad("data.draws[%d] spends bonus lot %d, which expired at %s" % (i, dr["lot"], dr["expires_at"]))
        m.take(dr, "data.draws[%d]" % i)


def fold(m, e, at_key):
    """Folds one event (already checked for envelope shape) onto member state `m`."""
    kind, d, store = e["type"], e["data"], e["store"]

    if kind == "member_enrolled":
        raise Bad("member %s is already enrolled" % m.member)

    elif kind == "recharged":
        amount = money(d["amount"], "data.amount", positive=True)
        ident(d["staff"], "data.staff", nullable=True)
        m.new_lot(d["lot"], "data.lot")
        m.principal_lots[d["lot"]] = [amount, store, None]

    elif kind == "bonus_granted":
        amount = money(d["amount"], "data.amount", positive=True)
        timestamp(d["expires_at"], "data.expires_at", nullable=True)
        text(d["reason"], "data.reason")
        if d["rule"] is not None:
            integer(d["rule"], "data.rule")
        m.new_lot(d["lot"], "data.lot")
        m.bonus_lots[d["lot"]] = [amount, store, d["expires_at"]]

    elif kind == "consumed":
        text(d["service"], "data.service", nullable=True)
        ident(d["staff"], "data.staff", nullable=True)
        text(d["tier"], "data.tier")
        money(d["price"], "data.price", positive=True)
        if not isinstance(d["discount"], str) or not DECIMAL_RE.match(d["discount"]):
            raise Bad("data.discount must be a decimal string, not %s" % json.dumps(d["discount"]))
        # A coupon may pay a visit whole: only then is nothing charged.
        charged = money(d["charged"], "data.charged", positive="coupon" not in d)
        if "coupon" in d:
            use_coupon(m, e, d["coupon"], at_key)
        principal = money(d["principal"], "data.principal")
        bonus = money(d["bonus"], "data.bonus")
        paid_out = external(d["external"], "data.external") if "external" in d else ZERO
        if "points_on" in d and d["points_on"] not in POINTS_ON:
            raise Bad("data.points_on must be one of %s" % ", ".join(POINTS_ON))
        if principal + bonus + paid_out != charged:
            raise Bad("principal %s + bonus %s + external %s is not charged %s"
                      % (principal, bonus, paid_out, charged))
        draws = read_draws(d["draws"], "data.draws")
        take_draws(m, draws, principal, bonus, at_key)
        earned = integer(d["points_earned"], "data.points_earned")
        timestamp(d["points_expires_at"], "data.points_expires_at", nullable=True)
        if earned > 0:
            if d["points_lot"] is None:
                raise Bad("points were earned but data.points_lot is null")
            m.new_lot(d["points_lot"], "data.points_lot")
            m.point_lots[d["points_lot"]] = [earned, d["points_expires_at"]]
        elif d["points_lot"] is not None or d["points_expires_at"] is not None:
            raise Bad("no points were earned but a point lot is named")
        m.bonus_spent += bonus
        if e["command"] in m.consumptions:
            raise Bad("consumption %s is recorded twice" % e["command"])
        m.consumptions[e["command"]] = {
            "store": store, "charged": charged, "principal": principal, "bonus": bonus,
            "refunded": ZERO, "principal_restored": ZERO, "bonus_restored": ZERO,
            "draws": draws, "restored": {}, "points_earned": earned, "points_reversed": 0,
            "external": d.get("external"), "external_refunded": ZERO,
            "coupon": d.get("coupon"),
        }

    elif kind == "consumption_refunded":
        cid = str(uuid_str(d["consumption"], "data.consumption"))
        rec = m.consumptions.get(cid)
        if rec is None:
            raise Bad("member %s has no refundable consumption %s" % (m.member, cid))
        if ident(d["service_store"], "data.service_store") != rec["store"]:
            raise Bad("data.service_store is %s but consumption %s was delivered at %s"
                      % (d["service_store"], cid, rec["store"]))
        amount = money(d["amount"], "data.amount", positive="coupon" not in d)
        principal = money(d["principal"], "data.principal")
        bonus = money(d["bonus"], "data.bonus")
        return_coupon(m, cid, rec, d, amount, at_key)
        back = ZERO
        if "external" in d:
            # Paid back by the method the consumption's external part came in, within it.
            back = external(d["external"], "data.external")
            paid = rec["external"]
            if paid is None or paid["method"] != d["external"]["method"]:
                raise Bad("data.external is paid back by a method the consumption was not paid with")
            rec["external_refunded"] += back
            if rec["external_refunded"] > money(paid["amount"], "external"):
                raise Bad("the external part is paid back beyond what was paid")
        if principal + bonus + back != amount:
            raise Bad("principal %s + bonus %s + external %s is not the amount %s"
                      % (principal, bonus, back, amount))
        if rec["refunded"] + amount > rec["charged"]:
            raise Bad("refunds reach %s of a consumption that charged %s" % (rec["refunded"] + amount, rec["charged"]))
        if rec["principal_restored"] + principal > rec["principal"] or rec["bonus_restored"] + bonus > rec["bonus"]:
            raise Bad("the refund restores more principal or bonus than the consumption drew")
        restored = d["restored"]
        if not isinstance(restored, list):
            raise Bad("data.restored must be a list")
        sums = {"principal": ZERO, "bonus": ZERO}
        for i, r in enumerate(restored):
            w = "data.restored[%d]" % i
            keys(r, RESTORE_KEYS, w)
            lot, rk = integer(r["lot"], w + ".lot", 1), r["kind"]
            if rk not in ("principal", "bonus"):
                raise Bad("%s.kind must be principal or bonus" % w)
            ra = money(r["amount"], w + ".amount", positive=True)
            forfeited = boolean(r["forfeited"], w + ".forfeited")
            expired = r["expires_at"] is not None and timestamp(r["expires_at"], w + ".expires_at") <= at_key
            if forfeited != expired:
                raise Bad("%s: forfeited is %s but the lot %s expired at the refund"
                          % (w, json.dumps(forfeited), "had" if expired else "had not"))
            sums[rk] += ra
            drawn = [dr for dr in rec["draws"] if dr["lot"] == lot and dr["kind"] == rk]
            if not drawn:
                raise Bad("%s: %s lot %d was not drawn by consumption %s" % (w, rk, lot, cid))
            dr = drawn[0]
            if r["origin_store"] != dr["origin_store"] or r["expires_at"] != dr["expires_at"]:
                raise Bad("%s: origin_store or expires_at differ from the draw" % w)
            done = rec["restored"].get((rk, lot), ZERO) + ra
            if done > dr["amount"]:
                raise Bad("%s: %s lot %d is restored beyond the %s drawn" % (w, rk, lot, dr["amount"]))
            rec["restored"][(rk, lot)] = done
            if not forfeited:
                lots = m.lots(rk)
                if lot in lots:
                    lots[lot][0] += ra
                else:
                    lots[lot] = [ra, dr["origin_store"], dr["expires_at"]]
        if sums["principal"] != principal or sums["bonus"] != bonus:
            raise Bad("the restored lots do not add up to principal %s and bonus %s" % (principal, bonus))
        reversed_ = d["points_reversed"]
        if not isinstance(reversed_, list):
            raise Bad("data.points_reversed must be a list")
        taken = 0
        for i, p in enumerate(reversed_):
            w = "data.points_reversed[%d]" % i
            keys(p, {"lot", "points"}, w)
            lot, pts = integer(p["lot"], w + ".lot", 1), integer(p["points"], w + ".points")
            if lot not in m.point_lots or m.point_lots[lot][0] < pts:
                raise Bad("%s: point lot %d cannot give %d points" % (w, lot, pts))
            m.point_lots[lot][0] -= pts
            if m.point_lots[lot][0] == 0:
                del m.point_lots[lot]
            taken += pts
        forgiven = integer(d["points_forgiven"], "data.points_forgiven")
        rec["points_reversed"] += taken + forgiven
        if rec["points_reversed"] > rec["points_earned"]:
            raise Bad("more points reversed (%d) than the consumption earned (%d)" % (rec["points_reversed"], rec["points_earned"]))
        rec["refunded"] += amount
        rec["principal_restored"] += principal
        rec["bonus_restored"] += bonus
        m.bonus_spent -= bonus
        if m.bonus_spent < 0:
            raise Bad("bonus spent goes below zero")
        if rec["refunded"] == rec["charged"]:
            del m.consumptions[cid]

    elif kind == "balance_refunded":
        principal = money(d["principal"], "data.principal")
        forfeited = money(d["bonus_forfeited"], "data.bonus_forfeited")
        spent = money(d["bonus_spent"], "data.bonus_spent")
        clawback = money(d["clawback"], "data.clawback")
        payout = money(d["payout"], "data.payout")
        if principal != m.principal() or forfeited != m.bonus():
            raise Bad("principal %s / bonus_forfeited %s differ from the member's %s / %s"
                      % (principal, forfeited, m.principal(), m.bonus()))
        if payout + clawback != principal:
            raise Bad("payout %s + clawback %s is not principal %s" % (payout, clawback, principal))
        if spent != m.bonus_spent:
            raise Bad("bonus_spent %s differs from the %s the member spent" % (spent, m.bonus_spent))
        draws = read_draws(d["draws"], "data.draws")
        for i, dr in enumerate(draws):
            m.take(dr, "data.draws[%d]" % i)
        if m.principal_lots or m.bonus_lots:
            raise Bad("the draws leave lots open")
        m.consumptions.clear()
        for p in m.packages.values():
            p.bonus_counted = ZERO
        m.bonus_spent = ZERO

    elif kind == "tier_changed":
        frm, to = text(d["from"], "data.from"), text(d["to"], "data.to")
        text(d["reason"], "data.reason")
        if frm != m.tier:
            raise Bad("member %s is in tier %s, not %s" % (m.member, m.tier, frm))
        m.tier = to

    elif kind == "bonus_expired":
        lot = integer(d["lot"], "data.lot", 1)
        amount = money(d["amount"], "data.amount", positive=True)
        origin = ident(d["origin_store"], "data.origin_store")
        exp = timestamp(d["expires_at"], "data.expires_at")
        held = m.bonus_lots.get(lot)
        if held is None or held != [amount, origin, d["expires_at"]] or exp > at_key:
            raise Bad("bonus lot %d does not expire as recorded" % lot)
        del m.bonus_lots[lot]

    elif kind == "points_expired":
        lot = integer(d["lot"], "data.lot", 1)
        pts = integer(d["points"], "data.points", 1)
        exp = timestamp(d["expires_at"], "data.expires_at")
        held = m.point_lots.get(lot)
        if held is None or held[0] != pts or held[1] != d["expires_at"] or exp > at_key:
            raise Bad("point lot %d does not expire as recorded" % lot)
        del m.point_lots[lot]

    elif kind in ("member_frozen", "member_unfrozen"):
        text(d["reason"], "data.reason")
        frozen = kind == "member_frozen"
        if m.frozen == frozen:
            raise Bad("member %s is already %s" % (m.member, "frozen" if frozen else "unfrozen"))
        m.frozen = frozen

    elif kind == "adjusted":
        text(d["reason"], "data.reason")
        ident(d["operator"], "data.operator")
        timestamp(d["expires_at"], "data.expires_at", nullable=True)
        balance, direction = d["balance"], d["direction"]
        if balance not in ("principal", "bonus", "points") or direction not in ("credit", "debit"):
            raise Bad("an adjustment of %s by %s" % (json.dumps(balance), json.dumps(direction)))
        if direction == "credit":
            m.new_lot(d["lot"], "data.lot")
            if balance == "points":
                m.point_lots[d["lot"]] = [integer(d["points"], "data.points", 1), d["expires_at"]]
            else:
                amount = money(d["amount"], "data.amount", positive=True)
                m.lots(balance)[d["lot"]] = [amount, store, d["expires_at"]]
        elif balance == "points":
            taken = take_points(m, d["points_draws"], "data.points_draws")
            if taken != integer(d["points"], "data.points", 1):
                raise Bad("the point draws do not add up to the points adjusted")
        else:
            amount = money(d["amount"], "data.amount", positive=True)
            draws = read_draws(d["draws"], "data.draws")
            if any(dr["kind"] != balance for dr in draws) or sum_kind(draws, balance) != amount:
                raise Bad("the draws do not add up to the amount adjusted")
            for i, dr in enumerate(draws):
                m.take(dr, "data.draws[%d]" % i)

    elif kind == "points_redeemed":
        pts = integer(d["points"], "data.points", 1)
        text(d["reason"], "data.reason", nullable=True)
        if "given" in d:
            g = d["given"]
            keys(g, {"item", "kind", "value"}, "data.given")
            text(g["item"], "data.given.item")
            if g["kind"] not in ("service", "gift"):
                raise Bad("data.given.kind must be service or gift")
            money(g["value"], "data.given.value", positive=True)
        taken = take_points(m, d["draws"], "data.draws")
        if taken != pts:
            raise Bad("the draws give %d points, not %d" % (taken, pts))

    elif kind == "package_purchased":
        fold_package_purchased(m, e, at_key)

    elif kind == "session_redeemed":
        p = m.open_package(d["package"], "data.package")
        # A granted package (price zero) recognises nothing.
        amount = money(d["amount"], "data.amount", positive=p.session_price > ZERO or p.value_left() > ZERO)
        principal = money(d["principal"], "data.principal")
        bonus = money(d["bonus"], "data.bonus")
        origin = ident(d["origin_store"], "data.origin_store")
        session = integer(d["session"], "data.session", 1)
        left = integer(d["sessions_left"], "data.sessions_left")
        ident(d["staff"], "data.staff", nullable=True)
        if origin != p.origin_store:
            raise Bad("data.origin_store is %s but package %s was sold at %s" % (origin, p.package, p.origin_store))
        if session != p.sessions - p.sessions_left + 1 or left + 1 != p.sessions_left:
            raise Bad("session %d with %d left does not follow package %s (%d of %d sessions left)"
                      % (session, left, p.package, p.sessions_left, p.sessions))
        if p.expired_by(at_key):
            raise Bad("package %s expired at %s, before this session" % (p.package, p.expires_at))
        if principal + bonus != amount:
            raise Bad("principal %s + bonus %s is not the amount %s" % (principal, bonus, amount))
        # Every session is worth session_price but the last, which takes what is left.
        due = p.value_left() if left == 0 else p.session_price
        if amount != due:
            raise Bad("session %d of package %s is worth %s, not %s" % (session, p.package, due, amount))
        if principal > p.principal_left or bonus > p.bonus_left:
            raise Bad("session %d takes principal %s / bonus %s; package %s holds %s / %s"
                      % (session, principal, bonus, p.package, p.principal_left, p.bonus_left))
        p.principal_left -= principal
        p.bonus_left -= bonus
        p.sessions_left = left
        if left == 0:
            p.close("used")

    elif kind == "package_refunded":
        p = m.open_package(d["package"], "data.package")
        amount = money(d["amount"], "data.amount")
        principal = money(d["principal"], "data.principal")
        bonus = money(d["bonus"], "data.bonus")
        unspent = money(d["bonus_unspent"], "data.bonus_unspent")
        sessions = integer(d["sessions"], "data.sessions", 1)
        origin = ident(d["origin_store"], "data.origin_store")
        exp = timestamp(d["expires_at"], "data.expires_at", nullable=True)
        text(d["reason"], "data.reason", nullable=True)
        to = d["to"]
        if to not in ("cash", "balance"):
            raise Bad("data.to must be cash or balance, not %s" % json.dumps(to))
        back = ZERO
        if "external" in d:
            back = external(d["external"], "data.external")
            paid = getattr(p, "external", None)
            if paid is None or paid["method"] != d["external"]["method"] or back > money(paid["amount"], "external"):
                raise Bad("data.external is paid back beyond or unlike how the package was paid")
        check_package_left(p, sessions, principal + back, bonus, origin, amount)
        if p.expired_by(at_key):
            raise Bad("package %s expired at %s, before this refund" % (p.package, p.expires_at))
        # The member's bonus-spent figure goes down by the bonus share, at most what the
        # package still counts in it (nothing once a balance refund settled its period) and
        # what it holds.
        if unspent != min(bonus, p.bonus_counted, m.bonus_spent):
            raise Bad("bonus_unspent is %s; the bonus share is %s, the package counts %s and the member's bonus spent %s"
                      % (unspent, bonus, p.bonus_counted, m.bonus_spent))
        m.bonus_spent -= unspent
        p.close("refunded")
        if to == "cash":
            if d["lot"] is not None or d["bonus_lot"] is not None or d["expires_at"] is not None:
                raise Bad("a refund to cash opens no lot")
        else:
            # A principal lot (from the selling store, no expiry), then a bonus lot, each only
            # for a share above zero, numbered like every other lot of the member.
            if principal > 0:
                m.new_lot(d["lot"], "data.lot")
                m.principal_lots[d["lot"]] = [principal, origin, None]
            elif d["lot"] is not None:
                raise Bad("data.lot names a principal lot but the principal share is zero")
            if bonus > 0:
                # The bonus share keeps the earliest expiry of the bonus lots that paid for the
                # package; once that has passed it is forfeited and opens no lot.
                if d["expires_at"] != p.bonus_expires_at:
                    raise Bad("the bonus share expires at %s, not %s like the bonus that paid for it"
                              % (d["expires_at"], p.bonus_expires_at))
                if exp is not None and exp <= at_key:
                    if d["bonus_lot"] is not None:
                        raise Bad("the bonus share expired at %s: it is forfeited, not credited" % d["expires_at"])
                else:
                    m.new_lot(d["bonus_lot"], "data.bonus_lot")
                    m.bonus_lots[d["bonus_lot"]] = [bonus, origin, d["expires_at"]]
            elif d["bonus_lot"] is not None or d["expires_at"] is not None:
                raise Bad("data.bonus_lot or data.expires_at names a bonus lot but the bonus share is zero")

    elif kind == "package_expired":
        p = m.open_package(d["package"], "data.package")
        amount = money(d["amount"], "data.amount")
        principal = money(d["principal"], "data.principal")
        bonus = money(d["bonus"], "data.bonus")
        sessions = integer(d["sessions"], "data.sessions", 1)
        origin = ident(d["origin_store"], "data.origin_store")
        exp = timestamp(d["expires_at"], "data.expires_at")
        if d["expires_at"] != p.expires_at or exp > at_key:
            raise Bad("package %s does not expire as recorded (it expires at %s)" % (p.package, json.dumps(p.expires_at)))
        check_package_left(p, sessions, principal, bonus, origin, amount)
        p.close("expired")

    elif kind == "balance_opened":
        fold_balance_opened(m, e, at_key)

    elif kind.startswith("card_"):
        fold_card(m, kind, d)

    elif kind.startswith("hold_"):
        fold_hold(m, e, at_key)

    elif kind in ("coupon_issued", "package_granted"):
        fold_coupon(m, e, at_key)

    else:
        raise Bad("%s is not a member's event" % kind)


def fold_balance_opened(m, e, at_key):
    """An opening balance carried over from another system, right after the enrollment: lots
    numbered principal, then bonus, then points; packages funded as if paid in cash."""
    d = e["data"]
    if m.version != 1 or m.next_lot != 1:
        raise Bad("an opening balance comes right after its member's enrollment")

    def later(v, what):
        t = timestamp(v, what, nullable=True)
        if t is not None and t <= at_key:
            raise Bad("%s %s is not after the opening's time" % (what, v))

    for kind, lots in (("principal", d["principal"]), ("bonus", d["bonus"])):
        if not isinstance(lots, list):
            raise Bad("data.%s must be a list" % kind)
        for l in lots:
            keys(l, {"amount", "expires_at", "lot", "origin_store"}, "an opened %s lot" % kind)
            amount = money(l["amount"], "an opened lot's amount", positive=True)
            origin = ident(l["origin_store"], "an opened lot's origin_store")
            if kind == "principal" and l["expires_at"] is not None:
                raise Bad("an opened principal lot has no expiry")
            later(l["expires_at"], "an opened bonus lot's expires_at")
            m.new_lot(l["lot"], "an opened lot's number")
            m.lots(kind)[l["lot"]] = [amount, origin, l["expires_at"]]
    if not isinstance(d["points"], list) or not isinstance(d["packages"], list):
        raise Bad("data.points and data.packages must be lists")
    for p in d["points"]:
        keys(p, {"expires_at", "lot", "points"}, "an opened point lot")
        points = integer(p["points"], "an opened point lot's points", 1)
        later(p["expires_at"], "an opened point lot's expires_at")
        m.new_lot(p["lot"], "an opened point lot's number")
        m.point_lots[p["lot"]] = [points, p["expires_at"]]
    for p in d["packages"]:
        keys(p, {"expires_at", "origin_store", "package", "price", "service", "session_price", "sessions"},
             "an opened package")
        pid = str(uuid_str(p["package"], "an opened package's id"))
        if pid in m.packages:
            raise Bad("package %s is opened twice" % pid)
        text(p["service"], "an opened package's service")
        origin = ident(p["origin_store"], "an opened package's origin_store")
        sessions = integer(p["sessions"], "an opened package's sessions", 1)
        session_price = money(p["session_price"], "an opened package's session_price", positive=True)
        price = money(p["price"], "an opened package's price", positive=True)
        if price != session_price * sessions:
            raise Bad("an opened package's price %s is not %s x %d sessions" % (price, session_price, sessions))
        later(p["expires_at"], "an opened package's expires_at")
        m.packages[pid] = Package(pid, origin, sessions, session_price, price, ZERO, p["expires_at"])


def card(v, what):
    if not isinstance(v, str) or not CARD_RE.match(v):
        raise Bad("%s must be a card number or its sha256: hash, not %s" % (what, json.dumps(v)))
    return v


def fold_card(m, kind, d):
    """Cards: linked, reported lost, replaced, unlinked, used. They move no money."""
    c = card(d.get("card", d.get("old_card")), "data.card")
    status = m.cards.get(c)
    if kind == "card_linked":
        if status is not None:
            raise Bad("card %s is already member %s's" % (c, m.member))
        m.cards[c] = "active"
    elif kind == "card_reported_lost":
        text(d["reason"], "data.reason", nullable=True)
        if status != "active":
            raise Bad("card %s is not an active card of member %s" % (c, m.member))
        m.cards[c] = "lost"
    elif kind == "card_replaced":
        new = card(d["new_card"], "data.new_card")
        if status not in ("active", "lost") or new in m.cards:
            raise Bad("card %s cannot be replaced by %s" % (c, new))
        m.cards[c] = "replaced"
        m.cards[new] = "active"
    elif kind == "card_unlinked":
        if status is None:
            raise Bad("card %s is not member %s's" % (c, m.member))
        del m.cards[c]
    elif status != "active":  # card_used
        raise Bad("card %s is not an active card of member %s" % (c, m.member))


COUPON_KINDS = {"amount": ("amount",), "percent": ("percent", "cap"), "threshold": ("threshold", "amount")}


def fold_coupon(m, e, at_key):
    """A coupon issued (nothing booked) or a package of free sessions granted (price zero),
    each known by its command's id."""
    kind, d = e["type"], e["data"]
    if kind == "coupon_issued":
        cid = str(uuid_str(d["coupon"], "data.coupon"))
        if cid != e["command"] or cid in m.coupons:
            raise Bad("coupon %s is not a new coupon of its command" % cid)
        exp = timestamp(d["expires_at"], "data.expires_at")
        if exp <= at_key:
            raise Bad("coupon %s expires before it is issued" % cid)
        text(d["reason"], "data.reason")
        want = COUPON_KINDS.get(d["kind"])
        if want is None:
            raise Bad("data.kind must be amount, percent or threshold")
        for f in ("amount", "cap", "threshold"):
            if (f in want) != (d[f] is not None):
                raise Bad("a %s coupon %s data.%s" % (d["kind"], "needs" if f in want else "has no", f))
            if d[f] is not None:
                money(d[f], "data." + f, positive=True)
        if ("percent" in want) != (d["percent"] is not None):
            raise Bad("only a percent coupon has data.percent")
        if d["percent"] is not None and not (isinstance(d["percent"], str) and DECIMAL_RE.match(d["percent"])):
            raise Bad("data.percent must be a decimal string")
        m.coupons[cid] = [exp, None]
        return
    pid = str(uuid_str(d["package"], "data.package"))
    if pid != e["command"] or pid in m.packages:
        raise Bad("package %s is not a new package of its command" % pid)
    sessions = integer(d["sessions"], "data.sessions", 1)
    if sessions > 1000:
        raise Bad("a package holds at most 1000 sessions")
    text(d["service"], "data.service")
    text(d["reason"], "data.reason")
    exp = timestamp(d["expires_at"], "data.expires_at", nullable=True)
    if exp is not None and exp <= at_key:
        raise Bad("package %s expires before it is granted" % pid)
    m.packages[pid] = Package(pid, e["store"], sessions, ZERO, ZERO, ZERO, d["expires_at"])


def use_coupon(m, e, c, at_key):
    """A visit redeems an open coupon of the member's for a discount above zero."""
    keys(c, {"coupon", "discount"}, "data.coupon")
    cid = str(uuid_str(c["coupon"], "data.coupon.coupon"))
    money(c["discount"], "data.coupon.discount", positive=True)
    held = m.coupons.get(cid)
    if held is None or held[1] is not None or held[0] <= at_key:
        raise Bad("coupon %s is not open for member %s to redeem" % (cid, m.member))
    held[1] = e["command"]


def return_coupon(m, cid, rec, d, amount, at_key):
    """The refund that completes a visit that redeemed a coupon names it (and only that one)."""
    used = rec.get("coupon")
    completes = rec["refunded"] + amount == rec["charged"]
    if "coupon" not in d:
        if used is not None and completes:
            raise Bad("the refund completing consumption %s does not give its coupon back" % cid)
        if amount == ZERO:
            raise Bad("a refund of nothing")
        return
    c = d["coupon"]
    keys(c, {"coupon", "discount", "restored"}, "data.coupon")
    if used is None or not completes or c["coupon"] != used["coupon"] or c["discount"] != used["discount"]:
        raise Bad("data.coupon is not the coupon consumption %s redeemed, or the refund does not complete it" % cid)
    restored = boolean(c["restored"], "data.coupon.restored")
    held = m.coupons[str(uuid_str(c["coupon"], "data.coupon.coupon"))]
    if restored != (held[0] > at_key):
        raise Bad("data.coupon.restored is %s but the coupon %s expired" % (json.dumps(restored), "had" if held[0] <= at_key else "had not"))
    if restored:
        held[1] = None


def fold_hold(m, e, at_key):
    """Holds: authorized, captured, voided, expired. They move no money; a capture's charge is
    the consumed event that follows it in the same command."""
    kind, d = e["type"], e["data"]
    hold = uuid_str(d["hold"], "data.hold")
    amount = money(d["amount"], "data.amount", positive=True)
    if kind == "hold_authorized":
        exp = timestamp(d["expires_at"], "data.expires_at")
        if d["hold"] != e["command"] or d["hold"] in m.holds:
            raise Bad("hold %s is not a new hold of its command" % hold)
        if exp <= at_key:
            raise Bad("hold %s expires at once" % hold)
        m.holds[d["hold"]] = [amount, exp]
        return
    h = m.holds.get(d["hold"])
    if h is None or h[0] != amount:
        raise Bad("member %s has no open hold %s of %s" % (m.member, hold, amount))
    if kind == "hold_captured":
        captured = money(d["captured"], "data.captured")
        released = money(d["released"], "data.released")
        if captured + released != amount:
            raise Bad("hold %s: captured + released != amount" % hold)
    elif kind == "hold_voided":
        text(d["reason"], "data.reason", nullable=True)
    else:  # hold_expired
        exp = timestamp(d["expires_at"], "data.expires_at")
        if exp != h[1] or exp > at_key:
            raise Bad("hold %s does not expire as recorded" % hold)
    del m.holds[d["hold"]]


def fold_package_purchased(m, e, at_key):
    d, store = e["data"], e["store"]
    pid = str(uuid_str(d["package"], "data.package"))
    if pid != e["command"]:
        raise Bad("data.package %s is not the purchase command's id %s" % (pid, e["command"]))
    if pid in m.packages:
        raise Bad("package %s is bought twice" % pid)
    text(d["service"], "data.service")
    ident(d["staff"], "data.staff", nullable=True)
    exp = timestamp(d["expires_at"], "data.expires_at", nullable=True)
    if exp is not None and exp <= at_key:
        raise Bad("the package expires at %s, not after its purchase" % d["expires_at"])
    price = money(d["price"], "data.price", positive=True)
    cash = money(d["cash"], "data.cash")
    principal = money(d["principal"], "data.principal")
    bonus = money(d["bonus"], "data.bonus")
    paid_out = external(d["external"], "data.external") if "external" in d else ZERO
    if cash + principal + bonus + paid_out != price:
        raise Bad("cash %s + principal %s + bonus %s + external %s is not the price %s"
                  % (cash, principal, bonus, paid_out, price))
    draws = read_draws(d["draws"], "data.draws")
    if cash > 0 and (principal > 0 or bonus > 0 or draws or "external" in d):
        raise Bad("a package is paid in cash or from the balance, not both")
    sessions = integer(d["sessions"], "data.sessions", 1)
    session_price = money(d["session_price"], "data.session_price", positive=True)
    # floor(price / sessions) to the cent: the last session takes the remainder (> 0).
    if session_price * 100 != (price * 100) // sessions:
        raise Bad("session_price %s is not the price %s / %d sessions, rounded down to the cent"
                  % (session_price, price, sessions))
    take_draws(m, draws, principal, bonus, at_key)
    m.bonus_spent += bonus
    m.packages[pid] = Package(pid, store, sessions, session_price, price - bonus, bonus, d["expires_at"])
    # The part paid outside the card counts in the cash-or-principal share, like cash; a
    # refund gives its share back by the same method.
    m.packages[pid].external = d.get("external")
    # The bonus share refunded to the balance keeps the earliest expiry of the bonus that paid.
    expiries = [x["expires_at"] for x in draws if x["kind"] == "bonus" and x["expires_at"] is not None]
    m.packages[pid].bonus_expires_at = min(expiries, key=lambda t: timestamp(t, "")) if expiries else None


# ---------------------------------------------------------------- inter-store clearing


class Clearing:
    """What each store owes each other store, from the principal that moved between them.

    Principal collected at store A and spent (or paid out on a balance refund) at store B
    leaves A holding B's cash: A owes B. Refunds reverse it; settlements pay it down.
    A package bought at store S from principal collected at A makes A owe S; S, which now
    holds the package's cash, owes the store that delivers a session its principal share,
    and the store that pays a refund to cash its principal share.
    """

    def __init__(self):
        self.owed = {}  # (debtor, creditor) -> Decimal
        self.version = 0
        self.last_at = None

    def move(self, debtor, creditor, amount):
        if debtor != creditor:
            self.owed[(debtor, creditor)] = self.owed.get((debtor, creditor), ZERO) + amount

    def outstanding(self, debtor, creditor):
        net = self.owed.get((debtor, creditor), ZERO) - self.owed.get((creditor, debtor), ZERO)
        return max(net, ZERO)

    def event(self, e):
        d, store = e["data"], e["store"]
        if e["type"] == "consumed":
            for dr in d["draws"]:
                if dr["kind"] == "principal":
                    self.move(dr["origin_store"], store, decimal.Decimal(dr["amount"]))
        elif e["type"] == "consumption_refunded":
            for r in d["restored"]:
                if r["kind"] == "principal":
                    self.move(r["origin_store"], d["service_store"], -decimal.Decimal(r["amount"]))
        elif e["type"] == "balance_refunded":
            # The payout is paid from the principal lots in the order drawn.
            to_pay = decimal.Decimal(d["payout"])
            for dr in d["draws"]:
                if dr["kind"] == "principal":
                    paid = min(decimal.Decimal(dr["amount"]), to_pay)
                    to_pay -= paid
                    self.move(dr["origin_store"], store, paid)
        elif e["type"] == "package_purchased":
            for dr in d["draws"]:
                if dr["kind"] == "principal":
                    self.move(dr["origin_store"], store, decimal.Decimal(dr["amount"]))
        elif e["type"] == "session_redeemed":
            self.move(d["origin_store"], store, decimal.Decimal(d["principal"]))
        elif e["type"] == "package_refunded" and d["to"] == "cash":
            self.move(d["origin_store"], store, decimal.Decimal(d["principal"]))

    def settle(self, e, at_key):
        d, store = e["data"], e["store"]
        if e["version"] != self.version + 1:
            raise Bad("the settlements stream is at version %d; this event says %d" % (self.version, e["version"]))
        if self.last_at is not None and at_key < self.last_at:
            raise Bad("the settlements stream's time goes back to %s" % e["at"])
        amount = money(d["amount"], "data.amount", positive=True)
        creditor = ident(d["creditor"], "data.creditor")
        if creditor == store:
            raise Bad("store %s settles with itself" % store)
        owed = self.outstanding(store, creditor)
        if amount > owed:
            raise Bad("store %s settles %s with store %s but owes it %s" % (store, amount, creditor, owed))
        self.move(store, creditor, -amount)
        self.version = e["version"]
        self.last_at = at_key


# ---------------------------------------------------------------- the chain


class Verifier:
    def __init__(self):
        self.prev = GENESIS
        self.n = 0
        self.members = {}
        self.cards = {}  # card as recorded -> the member holding it
        self.clearing = Clearing()
        self.command = None  # (id, index, member, at, store) of the last event
        self.commands = set()
        self.policies = []  # (version, at key, at) of each published policy version, oldest first
        self.latest = None  # (at key, at) of the latest event so far
        self.policy_stream = 0  # the policy stream's version
        self.founding = None  # (position, policy) of the founding policy's record
        self.published = []  # (version, position, at, policy) of each version read from the chain

    def in_force(self, at_key):
        """The policy version in force at a time: the latest published at or before it."""
        for version, effective, _ in reversed(self.policies):
            if effective <= at_key:
                return version
        return 1  # the founding policy, in force from the beginning

    def found(self, e):
        """Folds the founding policy's record: once, at its fixed time, store and id."""
        d = e["data"]
        if self.founding is not None:
            raise Bad("the founding policy is recorded twice (first at position %d)" % self.founding[0])
        if e["version"] != self.policy_stream + 1 or e["policy"] != 1:
            raise Bad("the founding policy's record (stream version %s, policy %s) does not follow stream version %d"
                      % (e["version"], e["policy"], self.policy_stream))
        want = uuid.uuid5(FOUNDING_NAMESPACE, canonical(d["policy"]).decode("utf-8"))
        if e["at"] != FOUNDING_AT or e["store"] != FOUNDING_STORE or uuid.UUID(e["command"]) != want:
            raise Bad("the founding policy's record has time %s, store %s and command id %s (UUID v5 of its policy)"
                      % (FOUNDING_AT, FOUNDING_STORE, want))
        self.founding = (e["position"], d["policy"])
        self.published.insert(0, (1, e["position"], None, d["policy"]))
        self.policy_stream += 1

    def close_period(self, e, at_key):
        """Folds a period_closed event of the policy stream: no later event may take effect at or
        before its `through`."""
        through = timestamp(e["data"]["through"], "data.through")
        if e["version"] != self.policy_stream + 1:
            raise Bad("the policy stream is at version %d; this event says %d" % (self.policy_stream, e["version"]))
        previous = getattr(self, "closed_through", None)
        if through > at_key or (previous is not None and through <= previous[0]):
            raise Bad("a period closed through %s must end at or before its event and after the previous close"
                      % e["data"]["through"])
        in_force = self.in_force(at_key)
        if e["policy"] != in_force:
            raise Bad("period_closed names policy version %d, but version %d was in force" % (e["policy"], in_force))
        self.closed_through = (through, e["data"]["through"])
        self.policy_stream += 1

    def publish(self, e, at_key):
        """Folds a policy_published event of the policy stream."""
        d = e["data"]
        n = integer(d["version"], "data.version", 1)
        if not isinstance(d["policy"], dict) or not d["policy"]:
            raise Bad("data.policy must be a policy object, not %s" % json.dumps(d["policy"])[:80])
        if n == 1:
            return self.found(e)
        current = self.policies[-1][0] if self.policies else 1
        if n != current + 1:
            raise Bad("policy version %d does not follow version %d" % (n, current))
        if e["version"] != self.policy_stream + 1:
            raise Bad("the policy stream is at version %d; this event says %d" % (self.policy_stream, e["version"]))
        if e["policy"] != n:
            raise Bad("the publication of policy version %d names policy %d; it must name the version it publishes"
                      % (n, e["policy"]))
        if self.policies and at_key <= self.policies[-1][1]:
            raise Bad("policy version %d takes effect at %s, not after version %d (%s)"
                      % (n, e["at"], current, self.policies[-1][2]))
        if self.latest is not None and at_key <= self.latest[0]:
            raise Bad("policy version %d takes effect at %s, but the log already holds an event at %s"
                      % (n, e["at"], self.latest[1]))
        self.policies.append((n, at_key, e["at"]))
        self.published.append((n, e["position"], e["at"], d["policy"]))
        self.policy_stream += 1

    def line(self, raw):
        position = self.n + 1
        obj = parse_line(raw)
        stated = obj.get("position")
        if stated != position or isinstance(stated, bool):
            raise Bad("expected position %d, found %s (an event is missing, moved or repeated)"
                      % (position, json.dumps(stated)))
        if canonical(obj) != raw:
            raise Bad("the line is not canonical JSON (keys sorted, no spaces, as exported)")
        stated_hash = obj.pop("hash", None)
        if not isinstance(stated_hash, str) or not HASH_RE.match(stated_hash):
            raise Bad("hash must be 64 lowercase hex digits")
        digest = hashlib.sha256(self.prev + canonical(obj)).digest()
        if digest.hex() != stated_hash:
            raise Bad("the hash does not follow the chain: computed %s, the line says %s"
                      % (digest.hex(), stated_hash))
        obj["hash"] = stated_hash
        self.event(obj)
        self.prev = digest
        self.n = position

    def event(self, e):
        v = e.get("v")
        if "v" in e and (isinstance(v, bool) or v not in SCHEMA_VERSIONS):
            raise Bad("unknown event schema version %s" % json.dumps(v))
        if v == 1 and "policy" in e:
            raise Bad("schema 1 has no field policy")
        top = born_at_3(e, V3_TOP_FIELDS, v, "the event")
        keys(e, (TOP_KEYS_V2 if v in (2, 3) else TOP_KEYS) | top, "the event")
        policy = 1 if v == 1 else integer(e["policy"], "policy", 1)  # schema 1: the founding policy
        cmd = uuid_str(e["command"], "command")
        index = integer(e["index"], "index")
        eid = uuid_str(e["id"], "id")
        want = uuid.uuid5(cmd, str(index))
        if eid != want:
            raise Bad("id %s is not UUID v5(command, \"%d\") = %s" % (eid, index, want))
        member = e["member"]
        if member not in STREAM_TYPES:
            ident(member, "member")
        ident(e["store"], "store")
        at_key = timestamp(e["at"], "at")
        if "occurred_at" in e and timestamp(e["occurred_at"], "occurred_at") >= at_key:
            # A late command takes effect at its member's last event, after its own time.
            raise Bad("occurred_at %s is not before at %s" % (e["occurred_at"], e["at"]))
        kind = e["type"]
        if not isinstance(kind, str) or kind not in DATA_KEYS:
            raise Bad("unknown event type %s" % json.dumps(kind))
        if v == 1 and kind not in V1_TYPES:
            raise Bad("event type %s does not exist at schema 1" % kind)
        if v == 2 and kind in V3_TYPES:
            raise Bad("event type %s does not exist at schema 2" % kind)
        extra = born_at_3(e["data"], V3_DATA_FIELDS.get(kind, ()), v, "data of %s" % kind)
        keys(e["data"], DATA_KEYS[kind] | extra, "data of %s" % kind)
        version = integer(e["version"], "version", 1)

        # A command's events are appended together: consecutive, indexed from 0.
        key = (e["command"], member, e["at"], e["store"])
        if self.command and self.command[0] == e["command"]:
            if index != self.command[1] + 1:
                raise Bad("command %s has event %d after its event %d (repeated or out of order)"
                          % (cmd, index, self.command[1]))
            if self.command[2:] != key[1:]:
                raise Bad("event %d of command %s differs from its event %d in member, time or store"
                          % (index, cmd, self.command[1]))
        else:
            if index != 0:
                raise Bad("command %s starts at index %d, not 0" % (cmd, index))
            if e["command"] in self.commands:
                raise Bad("command %s was already recorded earlier in the log" % cmd)
            self.commands.add(e["command"])
        self.command = (e["command"], index) + key[1:]

        if STREAM_OF.get(kind) != (member if member in STREAM_TYPES else None):
            raise Bad("%s belongs in %s, not in stream %s" % (kind, STREAM_OF.get(kind) or "a member's stream", member))
        if kind == "period_closed":
            self.close_period(e, at_key)
            return
        if getattr(self, "closed_through", None) is not None and at_key <= self.closed_through[0] \
                and not (kind == "policy_published" and e["data"].get("version") == 1):
            raise Bad("the event at %s is in the period closed through %s" % (e["at"], self.closed_through[1]))
        if kind == "policy_published":
            self.publish(e, at_key)
            if e["data"]["version"] != 1:  # the founding record is in force from the beginning
                self.seen(at_key, e["at"])
            return
        in_force = self.in_force(at_key)
        if policy != in_force:
            raise Bad("the event names policy version %d, but version %d was in force at %s"
                      % (policy, in_force, e["at"]))
        self.seen(at_key, e["at"])
        if kind == "settled":
            self.clearing.settle(e, at_key)
            return
        m = self.members.get(member)
        if m is None:
            if kind != "member_enrolled":
                raise Bad("member %s's first event is %s, not member_enrolled" % (member, kind))
            if version != 1:
                raise Bad("member_enrolled of %s has version %d, not 1" % (member, version))
            ident(e["data"]["home_store"], "data.home_store")
            self.members[member] = Member(member, text(e["data"]["tier"], "data.tier"), at_key)
            return
        if version != m.version + 1:
            raise Bad("member %s is at version %d; this event says %d" % (member, m.version, version))
        if at_key < m.last_at:
            raise Bad("member %s's time goes back to %s" % (member, e["at"]))
        fold(m, e, at_key)
        self.card_directory(member, e)
        self.clearing.event(e)
        m.version = version
        m.last_at = at_key

    def card_directory(self, member, e):
        """A card belongs to at most one member at a time."""
        d = e["data"]
        new = d["card"] if e["type"] == "card_linked" else d.get("new_card") if e["type"] == "card_replaced" else None
        if new is not None:
            owner = self.cards.get(new)
            if owner is not None and owner != member:
                raise Bad("card %s is linked to member %s already" % (new, owner))
            self.cards[new] = member
        elif e["type"] == "card_unlinked":
            self.cards.pop(d["card"], None)

    def seen(self, at_key, at):
        if self.latest is None or at_key > self.latest[0]:
            self.latest = (at_key, at)

    def totals(self):
        principal = sum((m.principal() for m in self.members.values()), ZERO)
        bonus = sum((m.bonus() for m in self.members.values()), ZERO)
        points = sum(m.points() for m in self.members.values())
        return principal, bonus, points


def lines(stream):
    """Yields each line's bytes without its newline; the last line may lack one."""
    for raw in stream:
        yield raw[:-1] if raw.endswith(b"\n") else raw


def report(args, v, problem):
    if args.json:
        if problem:
            out = {"events": 0, "members": 0, "head": "", "principal": "0.00", "bonus": "0.00",
                   "points": 0, "problem": {"position": problem[0], "what": problem[1]}}
        else:
            p, b, pts = v.totals()
            out = {"events": v.n, "members": len(v.members), "head": v.prev.hex(),
                   "principal": format(p, "f"), "bonus": format(b, "f"), "points": pts, "problem": None}
        print(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
        return
    # With --members or --policies, stdout carries only those lines; the summary goes to stderr.
    out = sys.stderr if args.members or args.policies else sys.stdout
    if problem:
        print("verify_chain: FAILED at position %d: %s" % problem, file=out)
    else:
        p, b, pts = v.totals()
        print("verify_chain: ok - %d events, %d members, chain head %s\n  held: principal %s, bonus %s, points %d"
              % (v.n, len(v.members), v.prev.hex(), format(p, "f"), format(b, "f"), pts), file=out)
        if v.founding is None:
            print("  " + OLD_LEDGER_NOTE, file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Verify a memberledger JSONL export with only the standard library.")
    ap.add_argument("file", nargs="?", default="-", help="the export (JSON Lines); - or nothing for standard input")
    ap.add_argument("--members", action="store_true",
                    help='print one JSON line per member: {"member","tier","principal","bonus","points","package_value"}')
    ap.add_argument("--json", action="store_true", help="print the summary as JSON (the shape of memberledger verify --json)")
    ap.add_argument("--head", metavar="HASH", help="fail unless the chain ends at this hash (from a trusted source)")
    ap.add_argument("--policies", action="store_true",
                    help='print one JSON line per policy version read from the chain: {"version","position","effective_at","policy"}')
    args = ap.parse_args(argv)

    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as e:
        print("verify_chain: cannot read %s: %s" % (args.file, e), file=sys.stderr)
        return 2

    v = Verifier()
    problem = None
    try:
        with stream:
            for raw in lines(stream):
                try:
                    v.line(raw)
                except Bad as e:
                    problem = (v.n + 1, str(e))
                    break
                except (decimal.Inexact, decimal.InvalidOperation) as e:
                    problem = (v.n + 1, "an amount cannot be computed exactly: %r" % e)
                    break
    except OSError as e:
        print("verify_chain: cannot read %s: %s" % (args.file, e), file=sys.stderr)
        return 2
    if problem is None and args.head is not None and v.prev.hex() != args.head.lower():
        problem = (0, "the log ends at position %d with chain head %s, not the expected %s"
                   % (v.n, v.prev.hex(), args.head.lower()))

    if args.members and problem is None:
        for mid in sorted(v.members):
            m = v.members[mid]
            print(json.dumps({"member": mid, "tier": m.tier, "principal": format(m.principal(), "f"),
                              "bonus": format(m.bonus(), "f"), "points": m.points(),
                              "package_value": format(m.package_value(), "f")},
                             ensure_ascii=False, separators=(",", ":")))
    if args.policies and problem is None:
        for version, position, effective_at, policy in v.published:
            print(json.dumps({"version": version, "position": position, "effective_at": effective_at,
                              "policy": policy}, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    report(args, v, problem)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
