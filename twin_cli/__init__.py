"""The ``twin`` command line: the top layer, above the library, the scenarios and the views.

Each command group lives in its own module of this package and exposes ``register(app)``; every
module of the package that has one is registered, so a new command group is one new module.
Command modules import heavy libraries inside the command functions, so that ``twin --help``
answers quickly.

Exit statuses: 0 success; 2 bad input (one line on stderr naming the file, key, value and what
was expected); 1 internal error (traceback written to a log file whose path is printed).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import signal
import sys
import threading
import traceback
from datetime import datetime

import typer

from twin.errors import InputError, Terminated

app = typer.Typer(
    name="twin",
    help=(
        "Changle Twin: digital-twin simulation and capacity planning for Changle District "
        "(长乐区), Fuzhou. Run what-if scenarios on roads and signals, bus lines, water mains "
        "and the AI computing centre."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."
    ),
) -> None:
    """Changle Twin command line."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def _register_command_modules() -> None:
    """Import each command module of ``twin_cli`` and let it add its commands (scenario commands
    first); ``__main__`` and private modules are not command groups."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    names.sort(key=lambda name: name != "scenario_commands")
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_command_modules()


def _log_internal_error() -> str:
    """Write the current exception's traceback to a log file; return the file's path."""
    from twin.paths import cache_dir

    log_dir = cache_dir() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"twin-{datetime.now():%Y%m%d-%H%M%S}-{id(sys.exc_info()[1]):x}.log"
    path.write_text(f"twin {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    return str(path)


_signals_seen: list[int] = []
"""SIGTERM deliveries of this call: typer turns any interrupt into a bare exit status 130."""


def _raise_terminated(signum: int, frame: object) -> None:
    _signals_seen.append(signum)
    raise Terminated(f"signal {signum}")


def _interrupted() -> None:
    """Exit 143 after SIGTERM, 130 after Ctrl-C (the shells' 128 + signal number)."""
    if _signals_seen:
        print("terminated", file=sys.stderr)
        sys.exit(143)
    print("interrupted", file=sys.stderr)
    sys.exit(130)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``twin`` script: run the CLI and map failures to exit statuses."""
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if on_main_thread else None
    if on_main_thread:
        # SIGTERM unwinds like Ctrl-C, so that no partial results folder or worker outlives us.
        signal.signal(signal.SIGTERM, _raise_terminated)
    _signals_seen.clear()
    try:
        _run(argv)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: list[str] | None) -> None:
    """Run the CLI and map failures to exit statuses (see the module docstring)."""
    try:
        # Without standalone mode, click returns (not raises) the code of a ``typer.Exit``.
        code = app(args=argv, prog_name="twin", standalone_mode=False)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer's form of Ctrl-C and SIGTERM
            _interrupted()
        sys.exit(exc.exit_code)
    except typer.Abort:  # click's form of Ctrl-C
        _interrupted()
    except typer.TyperException as exc:  # usage errors: bad option values, missing arguments
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "twin"
        message = " ".join(exc.format_message().split())
        print(f"error: {command}: {message} (see '{command} --help')", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:  # noqa: BLE001 - the last line of defence, logged in full
        log_path = _log_internal_error()
        print(f"internal error: {type(exc).__name__}: {exc} (details in {log_path})", file=sys.stderr)
        sys.exit(1)
    if code == 130:  # typer returns, rather than raises, the status of an interrupted command
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)
