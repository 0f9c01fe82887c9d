"""Shared fixtures: the scenario files and the CLI binary (MEMBERLEDGER_CLI, set by test.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "scenario"


@pytest.fixture
def scenario() -> Path:
    return SCENARIO


@pytest.fixture
def cli() -> Path:
    path = os.environ.get("MEMBERLEDGER_CLI")
    if not path:
        pytest.fail("MEMBERLEDGER_CLI is not set: run crates/py/test.sh")
    return Path(path)
