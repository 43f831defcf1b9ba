"""``python -m jitops.testing.github`` serves the API standalone."""

from __future__ import annotations

import os
import subprocess
import sys

import requests


def test_standalone_server_answers() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitops.testing.github", "--port", "0", "--token", "ghp_demo"],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v3")
        answer = requests.get(
            f"{url}/user", headers={"Authorization": "token ghp_demo"}, timeout=10
        )
        assert answer.json()["login"] == "octocat"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
