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
        wn = wntr.network.WaterNetworkModel(str(path))
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
    refuse_illegal_valves(wn, path)
    return wn


_REGULATING = ("PRV", "PSV", "FCV")


def _valve_clash(kind: str, start: str, end: str, other_kind: str, o_start: str, o_end: str) -> bool:
    """Whether EPANET 2.2 refuses a ``kind`` valve ``start → end`` beside another valve (its
    ``valvecheck``: regulating valves that would fight over one node's pressure or flow)."""
    pair = (other_kind, kind)
    if pair == ("PRV", "PRV"):  # two PRVs sharing a downstream node, or in series
        return o_end in (end, start) or o_start == end
    if pair == ("PSV", "PSV"):  # two PSVs sharing an upstream node, or in series
        return o_start in (start, end) or o_end == start
    return (
        (pair == ("PSV", "PRV") and o_start == end)
        or (pair == ("PRV", "PSV") and o_end == start)
        or (pair == ("FCV", "PSV") and o_end == start)
        or (pair == ("FCV", "PRV") and o_start == end)
        or (pair == ("PSV", "FCV") and o_start == end)
        or (pair == ("PRV", "FCV") and o_end == start)
    )


def refuse_illegal_valves(wn: wntr.network.WaterNetworkModel, path: str | Path) -> None:
    """Refuse the valve layouts EPANET 2.2 refuses when it reads a file.

    Error 219: a PRV, PSV or FCV connected to a tank or reservoir (a fixed-grade node leaves the
    valve nothing to regulate). Error 220: a PRV, PSV or FCV beside another one in a way that
    makes both try to set the same node (EPANET's ``valvecheck`` rules, in file order: each valve
    is checked against those before it).
    """
    fixed_grade = set(wn.tank_name_list) | set(wn.reservoir_name_list)
    seen: list[tuple[str, str, str, str]] = []
    for name, valve in wn.valves():
        kind, start, end = valve.valve_type, valve.start_node_name, valve.end_node_name
        if kind not in _REGULATING:
            continue
        if start in fixed_grade or end in fixed_grade:
            node = start if start in fixed_grade else end
            raise InputError(
                f"[VALVES] {name}: a {kind} may not connect to tank or reservoir {node!r} (EPANET error 219)", path
            )
        for other, o_kind, o_start, o_end in seen:
            if _valve_clash(kind, start, end, o_kind, o_start, o_end):
                raise InputError(
                    f"[VALVES] {name}: {kind} {start}→{end} beside {o_kind} {other} {o_start}→{o_end} "
                    "is an illegal valve connection (EPANET error 220)",
                    path,
                )
        seen.append((name, kind, start, end))


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
