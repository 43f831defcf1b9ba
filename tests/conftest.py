"""Suite-wide fixtures: tripwires that keep every test hermetic.

- No test may open a network connection outside loopback (real servers the suite starts listen
  on 127.0.0.1; anything else is a test reaching the internet by mistake).
- No test may read or write the real home directory or git configuration.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Server fixtures shared by many test packages, started once per session.
pytest_plugins: list[str] = [
    "tests.fixtures.postgres",
    "tests.fixtures.moto",
    "tests.fixtures.github_server",
    "tests.fixtures.chromium",
    "tests.fixtures.receiver",
    "tests.fixtures.shop",
]

_real_connect = socket.socket.connect


def _is_loopback(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise AssertionError(f"test tried to connect to {address!r}, outside loopback")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _network_tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    for name in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def shared_dir() -> Path:
    """The ``shared/`` folder beside the repository (GitHub reference data); skip if absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not (path / "github").is_dir():
        pytest.skip("../shared/github is absent: this test needs GitHub's reference data")
    return path
