"""The project's error types.

Two kinds of failure reach the user:

* :class:`InputError`: something the user gave us is wrong (a file, a key, a value, a network).
  The CLI prints its one-line message and exits with status 2, without a traceback.
* anything else is a bug of ours: the CLI logs the traceback to a file and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input, reported as one line naming where, what and what was expected.

    Parameters
    ----------
    message
        What is wrong and what was expected, e.g. ``"duration_s = -5: must be > 0"``.
    source
        The file (or other input) the problem is in; prefixed to the message when given.
    """

    def __init__(self, message: str, source: str | Path | None = None) -> None:
        self.source = str(source) if source is not None else None
        self.reason = message
        super().__init__(f"{self.source}: {message}" if self.source else message)


class ConvergenceError(RuntimeError):
    """A numerical solver did not converge; the message names the step, elements and residual."""


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, as ``timeout``, systemd, docker and Slurm send).

    A subclass of :class:`KeyboardInterrupt`, so every clean-up that handles Ctrl-C (removing a
    hidden partial results folder, stopping worker processes) handles it the same way.
    """
