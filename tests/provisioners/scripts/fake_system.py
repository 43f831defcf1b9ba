"""A stand-in target system for the exec provisioner's tests.

Keeps its state in the JSON file named by $FAKE_STATE: a mapping "requester/role" → grant. It
needs the token in $FAKE_TOKEN to equal $FAKE_EXPECTED_TOKEN, and on a wrong token prints it on
stderr (as careless real tools do), so the tests can check jitops redacts it. It also records
the environment it saw, so tests can check nothing else of jitops' environment leaks in, and
appends each grant and revoke that changed something to $FAKE_STATE.log.
Grants of the request ids listed (comma-separated) in $FAKE_REFUSE fail, as a target that is
partly down would. The action ``perform`` (an approved command action) is appended to
$FAKE_STATE.performed; the service "broken" fails, printing the token, "chatty" prints
the token and far too much, "slow" takes 30 s.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    # one change at a time, as a real system's transaction: two sweeps at once must not
    # read each other's half-written state
    with open(os.environ["FAKE_STATE"] + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _serve()


def _serve() -> int:
    request = json.load(sys.stdin)
    state_path = Path(os.environ["FAKE_STATE"])
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    Path(str(state_path) + ".env").write_text(json.dumps(sorted(os.environ)))
    token = os.environ.get("FAKE_TOKEN", "")
    if token != os.environ.get("FAKE_EXPECTED_TOKEN"):
        print(f"authentication failed with token {token}", file=sys.stderr)
        return 4
    action = request["action"]
    if action == "list":
        managed = [
            {
                "identity": grant["requester"],
                "role": grant["role"],
                "requester": grant["requester"],
                "expires_at": grant["expires_at"],
                "request_id": grant["request_id"],
            }
            for grant in state.values()
        ]
        json.dump({"managed": managed}, sys.stdout)
        return 0
    if action == "perform":
        # an approved action: recorded, one line each, so tests can count how often it ran
        with Path(str(state_path) + ".performed").open("a") as performed:
            performed.write(json.dumps(request) + "\n")
        service = request["params"].get("service")
        if service == "broken":
            print(f"restart failed (token {token})", file=sys.stderr)
            return 3
        if service == "chatty":  # far more output than a result keeps, the token in it
            print(f"token {token} " + "log line\n" * 2000)
            return 0
        if service == "slow":
            time.sleep(30)
        print(f"restarted {request['params'].get('service')} for {request['requester']}")
        return 0
    key = f"{request['requester']}/{request['role']}"
    refused = os.environ.get("FAKE_REFUSE", "").split(",")
    if action == "grant" and request["request_id"] in refused:
        print(f"cannot grant {key}: the system is unavailable for it", file=sys.stderr)
        return 5
    if action == "grant":
        changed = state.get(key) != request
        state[key] = request
    elif action == "revoke":
        changed = state.pop(key, None) is not None
    else:
        print(f"unknown action {action}", file=sys.stderr)
        return 2
    state_path.write_text(json.dumps(state))
    # every change it made, in order: tests read it to see nothing was done twice (granting
    # what it holds as it is, or revoking what it does not hold, changes nothing)
    if changed:
        with Path(str(state_path) + ".log").open("a") as log:
            log.write(f"{action} {key} {request['request_id']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
