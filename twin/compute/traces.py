"""Import public GPU-cluster traces as a :class:`twin.compute.jobs.JobTable`.

Two formats:

``alibaba`` - the pod list of Alibaba ``cluster-trace-gpu-v2023``
    (``name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, qos, pod_phase,
    creation_time, deletion_time, scheduled_time``; times in seconds). Submission is
    ``creation_time``; the run time is ``deletion_time - scheduled_time``. CPU-only pods
    (``num_gpu == 0``) and pods that were never scheduled (empty ``scheduled_time``) carry no GPU
    demand we can replay and are dropped. GPU-sharing pods (``gpu_milli < 1000``) are counted as
    one whole device, because the model does not share devices. The tenant is the QoS class
    (``LS``, ``BE``, ``Burstable``, ``Guaranteed``); latency-sensitive and guaranteed pods get
    priority class 1.

``philly`` - a Philly/Tiresias-style job list (``job_id, num_gpu, submit_time, duration``, times
    in seconds; extra columns such as Tiresias's ``iterations``/``model_name`` are ignored). If a
    ``vc``, ``user`` or ``tenant`` column is present it becomes the tenant.

``acme`` - a job trace of Shanghai AI Lab's AcmeTrace (Hu et al., NSDI'24; ``trace_seren.csv``,
    ``trace_kalos.csv``: ``job_id, user, node_num, gpu_num, cpu_num, type, state, submit_time,
    start_time, end_time, duration, queue, gpu_time``; times are ISO datetimes with a UTC offset,
    ``duration`` = end - start in seconds). Submission is ``submit_time``; the run time is
    ``duration`` whatever the final ``state`` (failed and cancelled jobs held their GPUs too).
    CPU-only jobs (``gpu_num == 0``) and jobs that never started (no ``start_time``) are dropped.
    The tenant is the workload ``type`` (pretraining, SFT, evaluation, debugging, ...).

Bad files are :class:`~twin.errors.InputError` s naming the file, the column and the first bad row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from twin.compute.jobs import JobTable
from twin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

ALIBABA_COLUMNS = (
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
)
PHILLY_COLUMNS = ("job_id", "num_gpu", "submit_time", "duration")
ACME_COLUMNS = ("job_id", "gpu_num", "type", "state", "submit_time", "start_time", "duration")
"""The AcmeTrace columns the replay reads (``user``, ``node_num``, ``end_time``, ... are ignored)."""
PRIORITY_QOS = ("LS", "Guaranteed")
TraceFormat = Literal["auto", "alibaba", "philly", "acme"]
TRACE_FORMATS = ("auto", "alibaba", "philly", "acme")


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd  # deferred: heavy, and only a trace import needs it

    if not path.exists():
        raise InputError("trace file not found", path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV: {' '.join(str(exc).split())}", path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def detect_format(columns: list[str], path: Path) -> str:
    """``alibaba`` or ``philly`` from the header; anything else is an :class:`InputError`."""
    present = set(columns)
    if set(ALIBABA_COLUMNS) <= present:
        return "alibaba"
    if set(PHILLY_COLUMNS) <= present:
        return "philly"
    if set(ACME_COLUMNS) <= present:
        return "acme"
    formats = {"alibaba": ALIBABA_COLUMNS, "philly": PHILLY_COLUMNS, "acme": ACME_COLUMNS}
    overlap = {name: len(present & set(columns)) for name, columns in formats.items()}
    closest = max(overlap, key=overlap.__getitem__)
    if overlap[closest] >= 2:  # clearly meant as that format: say what it lacks
        missing = [c for c in formats[closest] if c not in present]
        raise InputError(f"missing columns {missing} of the {closest} trace format (found {sorted(present)})", path)
    raise InputError(
        f"unknown trace columns {sorted(present)}: expected the Alibaba pod list "
        f"({', '.join(ALIBABA_COLUMNS)}), a Philly/Tiresias job list ({', '.join(PHILLY_COLUMNS)}) "
        f"or an AcmeTrace job trace ({', '.join(ACME_COLUMNS)})",
        path,
    )


def _numeric(frame: pd.DataFrame, column: str, path: Path, allow_missing: bool = False) -> np.ndarray:
    import pandas as pd  # deferred: heavy, and only a trace import needs it

    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & (~frame[column].isna() if allow_missing else True)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"column {column!r}, data row {row + 1}: {frame[column].iloc[row]!r} is not a number", path
        )
    return values.to_numpy(dtype=float)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing} (found {list(frame.columns)})", path)


def _table(
    submit: np.ndarray,
    work: np.ndarray,
    gpus: np.ndarray,
    tenant_labels: np.ndarray,
    priority: np.ndarray,
    path: Path,
) -> JobTable:
    if len(submit) == 0:
        raise InputError("no GPU jobs to replay after filtering", path)
    names, tenant = np.unique(tenant_labels.astype(str), return_inverse=True)
    order = np.argsort(submit, kind="stable")
    submit = submit[order] - submit[order][0]
    work = np.maximum(work[order], 0.0)
    table = JobTable(
        submit_s=submit.astype(float),
        work_s=work,
        estimate_s=work.copy(),
        gpus=gpus[order].astype(np.int64),
        tenant=tenant[order].astype(np.int64),
        job_class=np.zeros(len(submit), np.int64),
        priority=priority[order].astype(np.int64),
        sla_wait_s=np.full(len(submit), 3600.0),
        tenant_names=[str(n) for n in names],
        class_names=["trace"],
        tenant_share=np.full(len(names), 1.0 / len(names)),
        tenant_cap_share=np.ones(len(names)),
    )
    table.check()
    return table


def read_alibaba(path: Path) -> JobTable:
    """Jobs of an Alibaba ``cluster-trace-gpu-v2023`` pod list (see the module docstring)."""
    frame = _read_csv(path)
    _require(frame, ALIBABA_COLUMNS, path)
    num_gpu = _numeric(frame, "num_gpu", path)
    creation = _numeric(frame, "creation_time", path)
    deletion = _numeric(frame, "deletion_time", path)
    scheduled = _numeric(frame, "scheduled_time", path, allow_missing=True)
    if np.any(num_gpu < 0) or np.any(num_gpu != np.round(num_gpu)):
        row = int(np.flatnonzero((num_gpu < 0) | (num_gpu != np.round(num_gpu)))[0])
        raise InputError(
            f"column 'num_gpu', data row {row + 1}: {num_gpu[row]!r} is not a device count >= 0", path
        )
    keep = (num_gpu >= 1) & ~np.isnan(scheduled)
    if np.any(keep & (deletion < scheduled)):
        row = int(np.flatnonzero(keep & (deletion < scheduled))[0])
        raise InputError(
            f"data row {row + 1}: deletion_time {deletion[row]:g} is before scheduled_time "
            f"{scheduled[row]:g}",
            path,
        )
    qos = frame["qos"].fillna("unknown").astype(str).to_numpy()
    priority = np.isin(qos, PRIORITY_QOS).astype(np.int64)
    return _table(
        creation[keep], (deletion - scheduled)[keep], num_gpu[keep], qos[keep], priority[keep], path
    )


def read_philly(path: Path) -> JobTable:
    """Jobs of a Philly/Tiresias-style CSV (``job_id, num_gpu, submit_time, duration``)."""
    frame = _read_csv(path)
    _require(frame, PHILLY_COLUMNS, path)
    num_gpu = _numeric(frame, "num_gpu", path)
    submit = _numeric(frame, "submit_time", path)
    duration = _numeric(frame, "duration", path)
    bad = (num_gpu < 1) | (num_gpu != np.round(num_gpu))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"column 'num_gpu', data row {row + 1}: {num_gpu[row]!r} is not a device count >= 1", path
        )
    if np.any(duration < 0):
        row = int(np.flatnonzero(duration < 0)[0])
        raise InputError(f"column 'duration', data row {row + 1}: {duration[row]!r} must be >= 0 s", path)
    tenant_column = next((c for c in ("tenant", "vc", "user") if c in frame.columns), None)
    labels = (
        frame[tenant_column].fillna("unknown").astype(str).to_numpy()
        if tenant_column
        else np.full(len(frame), "default")
    )
    return _table(submit, duration, num_gpu, labels, np.zeros(len(frame), np.int64), path)


def _times_s(frame: pd.DataFrame, column: str, path: Path, allow_missing: bool = False) -> np.ndarray:
    """ISO datetimes (with their UTC offsets) as seconds since the epoch; NaN where missing."""
    import pandas as pd  # deferred: heavy, and only a trace import needs it

    times = pd.to_datetime(frame[column], errors="coerce", utc=True, format="ISO8601")
    bad = times.isna() & (~frame[column].isna() if allow_missing else True)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"column {column!r}, data row {row + 1}: {frame[column].iloc[row]!r} is not a date and time", path
        )
    seconds = (times - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=float, na_value=np.nan)


def read_acme(path: Path) -> JobTable:
    """Jobs of an AcmeTrace job trace (``trace_seren.csv``, ``trace_kalos.csv``; see the module docstring)."""
    frame = _read_csv(path)
    _require(frame, ACME_COLUMNS, path)
    gpu_num = _numeric(frame, "gpu_num", path)
    bad = (gpu_num < 0) | (gpu_num != np.round(gpu_num))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"column 'gpu_num', data row {row + 1}: {gpu_num[row]!r} is not a device count >= 0", path
        )
    submit = _times_s(frame, "submit_time", path)
    started = _times_s(frame, "start_time", path, allow_missing=True)
    duration = _numeric(frame, "duration", path, allow_missing=True)
    keep = (gpu_num >= 1) & ~np.isnan(started)
    if np.any(keep & (np.isnan(duration) | (duration < 0))):
        row = int(np.flatnonzero(keep & (np.isnan(duration) | (duration < 0)))[0])
        raise InputError(f"column 'duration', data row {row + 1}: {duration[row]!r} must be >= 0 s", path)
    kinds = frame["type"].fillna("unknown").astype(str).to_numpy()
    return _table(submit[keep], duration[keep], gpu_num[keep], kinds[keep], np.zeros(int(keep.sum()), np.int64),
                  path)


def read_trace(path: Path, fmt: TraceFormat = "auto") -> JobTable:
    """Read a trace file in ``fmt`` (``auto``: recognised from its header)."""
    path = Path(path)
    if fmt == "auto":
        fmt = detect_format(list(_read_csv(path).columns), path)
    if fmt == "alibaba":
        return read_alibaba(path)
    if fmt == "philly":
        return read_philly(path)
    if fmt == "acme":
        return read_acme(path)
    raise InputError(f"trace format {fmt!r}: expected {', '.join(TRACE_FORMATS)}", path)
