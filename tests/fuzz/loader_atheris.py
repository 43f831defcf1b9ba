"""Coverage-guided fuzzing of the loader with atheris (libFuzzer), for a bounded time.

    python -m tests.fuzz.loader_atheris --seconds 30

Starts from the hostile documents of tests/fuzz/corpus (copied to a scratch folder, so the
seeds stay as they are; ``--keep DIR`` keeps what it finds there instead). Any input that
makes ``tests.fuzz.oracle.check_load`` fail — an exception other than ``InputError``, a refusal
without a position, a crash of the parser's C code, an input that takes over ``--timeout``
seconds — stops the run with a nonzero exit code and leaves the input in the artifacts folder
(``--artifacts``, the scratch folder unless given) to reproduce it with.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
# Seeds reach the size limit; the fuzzer may grow them a little past it, to try the refusal.
MAX_LEN = 64 * 1024 + 256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.loader_atheris")
    parser.add_argument("--seconds", type=int, default=30, help="how long to fuzz (default 30)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--keep", type=Path, help="a corpus folder to grow and keep")
    parser.add_argument("--artifacts", type=Path, help="where failing inputs are written")
    parser.add_argument(
        "--instrument",
        default="jitops,ruamel",
        help="packages whose coverage guides the search (default jitops,ruamel; instrumenting "
        "ruamel takes some 5 s)",
    )
    options = parser.parse_args(argv)
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris); nothing to run", file=sys.stderr)
        return 2
    # instrumented on import, so that coverage of jitops and of ruamel's Python code guides
    # the search (libyaml's C code is not instrumented; its crashes are still caught)
    with atheris.instrument_imports(include=options.instrument.split(",")):
        from tests.fuzz.oracle import check_load

    with tempfile.TemporaryDirectory(prefix="jitops-fuzz-") as scratch:
        corpus = options.keep or Path(scratch) / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for seed in CORPUS.glob("*.yaml"):
            shutil.copy(seed, corpus / seed.name)
        artifacts = options.artifacts or Path(scratch)
        artifacts.mkdir(parents=True, exist_ok=True)
        args = [
            sys.argv[0],
            f"-max_total_time={options.seconds}",
            f"-timeout={options.timeout}",
            f"-max_len={MAX_LEN}",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            str(corpus),
        ]
        atheris.Setup(args, check_load)
        atheris.Fuzz()  # exits the process: 0 when the time is up, nonzero on a finding
    return 0  # pragma: no cover - atheris.Fuzz does not return


if __name__ == "__main__":
    sys.exit(main())
