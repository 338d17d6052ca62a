"""``python -m gapmap`` (and the ``gapmap`` command the package installs): the command line,
from the Python package. The same subcommands, flags, outputs, summaries, notes and exit codes
as the ``gapmap`` binary (2: bad input or usage, 1: other failures), except ``batch``, which
starts one ``gapmap`` binary per scenario, and ``analyze --plan``."""

from __future__ import annotations

import os
import sys
from typing import Optional


def _write(stream, text: str) -> None:
    """Writes to stdout or stderr; a reader that went away (``| head``) is no failure."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes at exit: point the stream at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


def main(argv: Optional[list[str]] = None) -> int:
    from . import _gapmap
    from ._progress import Progress

    args = sys.argv[1:] if argv is None else list(argv)
    progress = None
    if sys.stderr.isatty():
        try:
            import tqdm  # noqa: F401

            progress = Progress()
        except ImportError:
            progress = None

    def note(text: str) -> None:
        _write(sys.stderr, f"note: {text}\n")

    try:
        code, out, err = _gapmap.main(args, progress, note)
    except _gapmap.InputError as e:
        _write(sys.stderr, f"error: {e}\n")
        return 2
    except _gapmap.Error as e:
        _write(sys.stderr, f"error: {e}\n")
        return 1
    except KeyboardInterrupt:
        _write(sys.stderr, "error: interrupted; no output was published\n")
        return 130
    if out:
        _write(sys.stdout, out)
    if err:
        _write(sys.stderr, err)
    return code


if __name__ == "__main__":
    sys.exit(main())
