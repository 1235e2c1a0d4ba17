"""EPANET ``.inp`` import and export, through WNTR.

WNTR reads any EPANET 2.2 input file (US or SI units) into a ``WaterNetworkModel`` in SI units
and writes one back in the units the file came in (or the units asked for). These two functions
add what the rest of the twin needs at the edge: clear one-line errors for bad files, and a
deterministic writer (without WNTR's file-name and time stamp, the output only depends on the
model, so rebuilding a network gives the same bytes).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from twin.errors import InputError

if TYPE_CHECKING:
    import wntr

FLOW_UNITS = ("CFS", "GPM", "MGD", "IMGD", "AFD", "LPS", "LPM", "MLD", "CMH", "CMD")


def read_inp(path: str | Path) -> wntr.network.WaterNetworkModel:
    """Read an EPANET ``.inp`` file into a WNTR model (SI units inside).

    Raises
    ------
    InputError
        If the file is missing or WNTR cannot parse it; the message names the file and WNTR's
        complaint.
    """
    # deferred: wntr is slow to import, and only reading a file needs it
    import wntr

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a directory, expected an EPANET .inp file", path)
    # WNTR logs a warning per unusual line; keep the CLI quiet unless asked
    wntr_log = logging.getLogger("wntr")
    level = wntr_log.level
    wntr_log.setLevel(max(level, logging.ERROR))
    try:
        return wntr.network.WaterNetworkModel(str(path))
    except (ValueError, KeyError, IndexError, RuntimeError, UnicodeDecodeError, AttributeError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"not a valid EPANET input file: {message}", path) from None
    except Exception as exc:  # noqa: BLE001 - wntr raises its own ENxxx error types
        if type(exc).__module__.startswith("wntr"):
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(f"not a valid EPANET input file: {message}", path) from None
        raise
    finally:
        wntr_log.setLevel(level)


def write_inp(wn: wntr.network.WaterNetworkModel, path: str | Path, units: str | None = None) -> Path:
    """Write ``wn`` as an EPANET 2.2 ``.inp`` file.

    Parameters
    ----------
    wn
        The model.
    path
        Target file; its folder is created if needed.
    units
        EPANET flow units (``LPS``, ``CMH``, ``GPM`` ...); default: the model's own
        ``options.hydraulic.inpfile_units``.
    """
    # deferred: wntr is slow to import, and only writing a file needs it
    import wntr

    units = (units or wn.options.hydraulic.inpfile_units or "LPS").upper()
    if units not in FLOW_UNITS:
        raise InputError(f"units = {units!r}: expected one of {', '.join(FLOW_UNITS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wntr.network.write_inpfile(wn, str(path), units=units, version=2.2)
    # WNTR stamps the source file name and the time into the header; drop both so that the same
    # model always gives the same bytes
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines[:5] if not line.startswith(("; Filename:", "; Created:"))]
    path.write_text("".join(kept + lines[5:]))
    return path


def link_tags(wn: wntr.network.WaterNetworkModel) -> dict[str, str]:
    """Each tagged link's tag (EPANET ``[TAGS]``), e.g. ``trunk`` on the bundled network's mains."""
    return {name: str(wn.get_link(name).tag) for name in wn.link_name_list if wn.get_link(name).tag}
