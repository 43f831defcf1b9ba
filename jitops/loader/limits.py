"""The limits every file jitops reads is held to, before and while it is parsed."""

from __future__ import annotations

MAX_FILE_BYTES = 64 * 1024
# Access files are a few levels deep; anything deeper is a mistake or an attack on the
# recursive code that walks the data afterwards.
MAX_DEPTH = 16
