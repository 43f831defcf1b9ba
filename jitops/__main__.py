"""``python -m jitops`` runs the command-line interface."""

from __future__ import annotations

from jitops.cli import main

if __name__ == "__main__":
    main()
