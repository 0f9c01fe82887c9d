"""memberledger: an event-sourced stored-value membership ledger, embedded in Python.

    >>> import memberledger
    >>> ledger = memberledger.Ledger.in_memory()
    >>> _ = ledger.execute({"id": "6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10",
    ...     "at": "2026-03-01T10:00:00Z", "type": "enroll", "member": "M1", "store": "S1"})
    >>> ledger.member("M1")["principal"]
    Decimal('0.00')

Commands are the CLI's JSON lines (a dict or a JSON string); receipts, views, statements,
reports and policies are the CLI's JSON, with amounts as ``decimal.Decimal``, times as aware
``datetime`` (UTC) and points as ``int``. Failures raise a subclass of :class:`LedgerError`
with the stable ``code``. The ledger works with the GIL released: share one ``Ledger`` between
threads. This package translates only; every rule is the ledger's.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Type, Union, cast

from memberledger import _native

__all__ = [
    "Ledger",
    "LedgerError",
    "InvalidError",
    "NotFoundError",
    "ConflictError",
    "RefusedError",
    "StorageError",
    "InternalError",
    "CODES",
]

Command = Union[Mapping[str, Any], str]
"""A command: a dict (amounts may be ``Decimal``, times aware ``datetime``) or its JSON."""

Time = Union[datetime, str]
"""A time: an aware ``datetime``, or RFC 3339 text."""


class LedgerError(Exception):
    """A failure of the ledger. ``code`` is the stable string code (``insufficient_balance``,
    ``idempotency_conflict``, …); ``family`` its group; ``message`` is for people."""

    family = "internal"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidError(LedgerError):
    """The input is malformed (``invalid_*``, ``unknown_tier``, ``batch_too_large``, …):
    sending it again fails again."""

    family = "invalid"


class NotFoundError(LedgerError):
    """The member is not enrolled (``member_not_found``)."""

    family = "not_found"


class ConflictError(LedgerError):
    """``idempotency_conflict``, ``out_of_order``, ``member_exists``,
    ``concurrency_conflict``."""

    family = "conflict"


class RefusedError(LedgerError):
    """A business refusal (``insufficient_balance``, ``member_frozen``, ``future_time``, …):
    nothing was recorded."""

    family = "refused"


class StorageError(LedgerError):
    """The medium failed (``storage``: retry with the same id), the log is damaged
    (``corrupt``), or an export could not be written (``io``)."""

    family = "storage"


class InternalError(LedgerError):
    """A bug in the library (``internal``) or a code this package does not know."""

    family = "internal"


_CLASSES: Dict[str, Type[LedgerError]] = {
    c.family: c
    for c in (InvalidError, NotFoundError, ConflictError, RefusedError, StorageError)
}

CODES: Dict[str, Type[LedgerError]] = {
    name: _CLASSES.get(family, InternalError)
    for _number, name, family in _native.codes()
    if name != "ok"
}
"""Every string code and the class it raises."""


def _error(e: _native.NativeError) -> LedgerError:
    code, family, message = e.args
    return _CLASSES.get(family, InternalError)(code, message)


# Values the ledger writes as text: times (RFC 3339 in UTC) and amounts (two decimals).
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
_AMOUNT = re.compile(r"-?\d+\.\d{2}")
# Keys whose text is an id or a name, never an amount, even when it looks like one.
_TEXT_KEYS = frozenset(
    "id command member store home_store origin_store to from package consumption tier "
    "service staff operator reason description kind type currency hash prev debtor creditor "
    "account stream head what".split()
)


def _typed(value: Any, key: Optional[str] = None) -> Any:
    """The ledger's JSON with times as aware ``datetime`` and amounts as ``Decimal``."""
    if isinstance(value, dict):
        return {k: _typed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v, key) for v in value]
    if isinstance(value, str):
        if _TIME.fullmatch(value):
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
        if key not in _TEXT_KEYS and _AMOUNT.fullmatch(value):
            return Decimal(value)
    return value


def _time(t: Optional[Time]) -> Optional[str]:
    if t is None or isinstance(t, str):
        return t
    if t.tzinfo is None:
        raise InvalidError("invalid_argument", f"time {t!r} has no time zone")
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """JSON for what ``json`` cannot write: ``Decimal`` as its text, ``datetime`` in UTC."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _time(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _answer(call: Callable[[], str]) -> Any:
    """The typed JSON a native call answers, or its failure raised as a :class:`LedgerError`."""
    try:
        text = call()
    except _native.NativeError as e:
        raise _error(e) from None
    return _typed(json.loads(text))


def _json(command: Command) -> str:
    if isinstance(command, str):
        return command
    return json.dumps(command, default=_plain, separators=(",", ":"))


class Ledger:
    """A ledger: on disk (:meth:`open`) or in memory (:meth:`in_memory`)."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.NativeLedger) -> None:
        self._native = native

    @classmethod
    def open(
        cls,
        path: Union[str, "os.PathLike[str]"],
        policy: Optional[Union[Mapping[str, Any], str]] = None,
    ) -> "Ledger":
        """Opens (or creates) the ledger in the directory ``path``. A new ledger is founded
        with ``policy`` (a dict or JSON; the built-in policy when ``None``); an existing one
        must have been founded with it."""
        text = None if policy is None else _json(policy)
        try:
            return cls(_native.NativeLedger.open(os.fspath(path), text))
        except _native.NativeError as e:
            raise _error(e) from None

    @classmethod
    def in_memory(cls, policy: Optional[Union[Mapping[str, Any], str]] = None) -> "Ledger":
        """A ledger in memory (for tests and trials)."""
        text = None if policy is None else _json(policy)
        try:
            return cls(_native.NativeLedger.in_memory(text))
        except _native.NativeError as e:
            raise _error(e) from None

    def execute(self, command: Command) -> Dict[str, Any]:
        """Executes one command; its receipt once it is durable. A retry with the same id and
        content returns the original receipt (``replayed`` true) and records nothing."""
        return cast(Dict[str, Any], _answer(lambda: self._native.execute(_json(command))))

    def execute_batch(self, commands: Iterable[Command]) -> List[Dict[str, Any]]:
        """Executes commands in one group commit: one receipt each, in order, each ``ok`` or
        refused in place (``{"ok": False, "error": {"code", "message"}}``)."""
        text = "[" + ",".join(_json(c) for c in commands) + "]"
        return cast(List[Dict[str, Any]], _answer(lambda: self._native.execute_batch(text)))

    def member(self, member: str, as_of: Optional[Time] = None) -> Dict[str, Any]:
        """A member's view (balances, tier, lots, packages), now or as of a time."""
        return cast(Dict[str, Any], _answer(lambda: self._native.member(member, _time(as_of))))

    def statement(
        self, member: str, start: Optional[Time] = None, end: Optional[Time] = None
    ) -> Dict[str, Any]:
        """A member's statement for ``[start, end]`` (either end open when ``None``)."""
        since, until = _time(start), _time(end)
        return cast(Dict[str, Any], _answer(lambda: self._native.statement(member, since, until)))

    def verify(self) -> Dict[str, Any]:
        """Re-checks the chain and the projections; the report (``problem`` is ``None`` when
        the ledger verifies)."""
        return cast(Dict[str, Any], _answer(lambda: self._native.verify()))

    def export(self, format: str, path: Union[str, "os.PathLike[str]"]) -> int:
        """Writes the whole log to ``path`` as ``jsonl``, ``hledger``, ``beancount`` or
        ``csv``; the number of events."""
        try:
            return self._native.export(format, os.fspath(path))
        except _native.NativeError as e:
            raise _error(e) from None

    def policy(self, as_of: Optional[Time] = None) -> Dict[str, Any]:
        """The policy version in force now or at a time: ``version``, ``effective_at``,
        ``policy``."""
        return cast(Dict[str, Any], _answer(lambda: self._native.policy(_time(as_of))))
