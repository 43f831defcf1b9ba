"""Answers every action with exit 0, and the list action with output that is not the protocol."""

from __future__ import annotations

import json
import sys

request = json.load(sys.stdin)
if request["action"] == "list":
    print('{"managed": [{"identity": "alice"}], "extra": 1}')
