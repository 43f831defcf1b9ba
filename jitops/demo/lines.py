"""What ``jitops demo`` says, one ``Line`` at a time: the story tells, the report renders."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tone(StrEnum):
    TITLE = "title"
    HEADING = "heading"
    SAY = "say"  # narration
    SHOW = "show"  # what a person or a job sees, verbatim
    OK = "ok"  # a check of what happened, passed
    FAIL = "fail"  # a check of what happened, failed
    SKIP = "skip"  # a step not run
    SUMMARY = "summary"


@dataclass(frozen=True)
class Line:
    tone: Tone
    text: str
