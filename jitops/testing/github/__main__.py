"""``python -m jitops.testing.github --port N``: run the test server until interrupted."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from jitops.testing.github.server import GitHubServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jitops.testing.github", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--root", type=Path, help="directory for the git repositories")
    parser.add_argument("--user", default="octocat", help="a user to create")
    parser.add_argument("--token", default=None, help="that user's token (default: random)")
    args = parser.parse_args(argv)
    with GitHubServer(args.root, port=args.port) as server:
        account = server.hub.add_user(args.user, token=args.token)
        print(f"GitHub test server at {server.base_url}", flush=True)
        print(f"user {account.login} token {account.token}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
