"""Where a sweep's runs execute: a local process pool, or a Dask (``dask.distributed``) cluster.

Both executors run one picklable function over a list of items and yield each
:class:`Completion` as it finishes, in completion order. They know nothing about scenarios:
the sweep hands them :func:`scenarios.sweep.execute_run` and its run tasks.

Worker loss is the executor's business, because only the executor can see it:

* :class:`LocalProcessExecutor` uses :class:`concurrent.futures.ProcessPoolExecutor`. A worker
  that dies (segfault, ``os._exit``, the OOM killer) breaks the whole pool and fails every run in
  flight with ``BrokenProcessPool``, and nothing says which run killed it. Those runs become
  *suspects*: a fresh pool re-runs them one at a time, so a run that kills its worker while alone
  is the culprit for certain, and the runs that merely shared the pool with it are not charged for
  its death. A run is given up (yielded as :class:`WorkerLost`) once it has killed its worker
  ``max_attempts`` times while running alone.
* :class:`DaskExecutor` relies on the scheduler, which re-runs a task whose worker died up to
  ``distributed.scheduler.allowed-failures`` times and then raises ``KilledWorker``; that becomes
  :class:`WorkerLost`. It connects to a running scheduler (``tcp://HOST:PORT``) or starts a
  ``LocalCluster`` of worker processes on the loopback interface.

Heavy imports (``distributed``) happen inside methods: the scenario registry imports this module.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from twin.errors import InputError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 3
"""Attempts a run gets when its worker keeps dying (the Dask scheduler's default too)."""

SCHEDULER_CONNECT_TIMEOUT_S = 10.0
"""How long to wait for a Dask scheduler that accepts TCP connections to answer."""


@dataclass(frozen=True)
class WorkerLost:
    """The outcome of a run whose worker process died on every attempt it was given."""

    attempts: int | None
    reason: str


@dataclass(frozen=True)
class Completion(Generic[T]):
    """One finished item: what the function returned (or :class:`WorkerLost`), and attempts used.

    ``attempts`` is ``None`` when the executor cannot tell (Dask retries inside the scheduler).
    """

    item: T
    value: Any
    attempts: int | None


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalProcessExecutor:
    """Run items in local worker processes, re-running the runs of workers that died.

    Parameters
    ----------
    workers
        Worker processes (at most this many runs in flight).
    max_attempts
        Worker deaths a run may cause, running alone, before it is given up as
        :class:`WorkerLost`.
    preload
        Modules the fork server imports once, so each new worker starts warm (POSIX only).
    """

    name = "local"

    def __init__(
        self, workers: int, max_attempts: int = DEFAULT_MAX_ATTEMPTS, preload: Sequence[str] = ()
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.max_attempts = max_attempts
        self.preload = list(preload)

    def __enter__(self) -> LocalProcessExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def describe(self) -> str:
        """A short description for logs and the sweep's manifest."""
        return f"local process pool, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def _context(self) -> multiprocessing.context.BaseContext:
        # The fork server is a fresh single-threaded process, so forking workers from it is safe
        # even though this process runs threads (progress bar, pool manager); plain fork is not.
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            if self.preload:
                context.set_forkserver_preload(self.preload)
            return context
        return multiprocessing.get_context("spawn")

    def _new_pool(self, workers: int):  # noqa: ANN202 - ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=workers, mp_context=self._context())

    def map_unordered(self, fn: Callable[[T], Any], items: Sequence[T]) -> Iterator[Completion[T]]:
        """Yield a :class:`Completion` for every item, in the order they finish."""

        if not items:
            return
        pending: deque[int] = deque(range(len(items)))
        suspects: deque[int] = deque()
        attempts = [0] * len(items)  # submissions
        deaths = [0] * len(items)  # worker deaths while running alone: certainly its own doing
        in_flight: dict[Any, int] = {}
        pool = self._new_pool(min(self.workers, len(items)))
        finished_cleanly = False
        try:
            while pending or suspects or in_flight:
                # While suspects remain, run them alone so that a death names its culprit.
                queue, limit = (suspects, 1) if suspects else (pending, self.workers)
                broken_on_submit = False
                while queue and len(in_flight) < limit:
                    index = queue.popleft()
                    try:
                        future = pool.submit(fn, items[index])
                    except (BrokenProcessPool, OSError) as exc:
                        # It broke since the last completion. When the break lands while submit
                        # is spawning a replacement worker, CPython raises OSError ("handle is
                        # closed") instead; the pool has marked itself broken by then.
                        if isinstance(exc, OSError) and not getattr(pool, "_broken", False):
                            raise
                        queue.appendleft(index)
                        broken_on_submit = True
                        break
                    attempts[index] += 1
                    in_flight[future] = index
                done = wait(list(in_flight), return_when=FIRST_COMPLETED).done if in_flight else set()
                broken = [future for future in done if _is_broken(future, BrokenProcessPool)]
                for future in done:
                    if future in broken:
                        continue
                    index = in_flight.pop(future)
                    yield Completion(items[index], future.result(), attempts[index])
                if not broken and not broken_on_submit:
                    continue
                # The pool is unusable: every run still in flight fails with it (or has just
                # finished, in which case its result stands). Kill its workers before shutting
                # it down: CPython's own clean-up only sends SIGTERM to the workers it knew of when
                # it noticed the death, and then waits for all of them, so a worker started by a
                # submit racing with that clean-up would keep shutdown waiting for ever.
                _kill_workers(pool)
                wait(list(in_flight))
                victims = []
                for future, index in list(in_flight.items()):
                    if _is_broken(future, BrokenProcessPool):
                        victims.append(index)
                    else:
                        yield Completion(items[index], future.result(), attempts[index])
                in_flight.clear()
                pool.shutdown(wait=True)
                log.warning("a worker process died; re-running %d run(s) one at a time", len(victims))
                for index in sorted(victims):
                    deaths[index] += len(victims) == 1  # alone when it died: the culprit
                    if deaths[index] >= self.max_attempts:
                        reason = (f"the run killed its worker process {deaths[index]} times "
                                  f"(in {attempts[index]} attempts)")
                        yield Completion(items[index], WorkerLost(attempts[index], reason), attempts[index])
                    else:
                        suspects.append(index)
                pool = self._new_pool(self.workers)
            finished_cleanly = True
        finally:
            if finished_cleanly:
                pool.shutdown(wait=True)
            else:
                _terminate(pool)


def _is_broken(future: Any, broken_type: type[BaseException]) -> bool:
    return future.exception() is not None and isinstance(future.exception(), broken_type)


def _kill_workers(pool: Any) -> None:
    """SIGKILL every worker process of ``pool`` (those already dead are skipped).

    The pool keeps its processes in ``_processes`` (stable since Python 3.2); there is no public
    way to stop a worker in the middle of a run.
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, ValueError):  # already reaped, or its handle closed
            pass


def _terminate(pool: Any) -> None:
    """Stop a pool now (interrupt or error in the caller): kill its workers, drop queued runs.

    ``shutdown`` alone would wait for every running run to finish, which can take minutes.
    """
    _kill_workers(pool)
    pool.shutdown(wait=True, cancel_futures=True)


def parse_scheduler_address(address: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` → ``(host, port)``; anything else is an :class:`InputError`."""
    parsed = urllib.parse.urlsplit(address)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname or port is None:
        raise InputError(f"--scheduler {address!r}: expected a Dask scheduler address tcp://HOST:PORT")
    return parsed.hostname, port


def check_scheduler_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Fail fast, with one line, if nothing accepts connections at the scheduler's address."""
    host, port = parse_scheduler_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler ({reason})") from None


async def _identity(address: str, timeout_s: float) -> Any:
    from distributed.comm import connect  # deferred: dask is heavy and only the Dask executor needs it

    comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout_s)
        return await asyncio.wait_for(comm.read(), timeout_s)
    finally:
        comm.abort()


def check_is_scheduler(address: str, timeout_s: float = SCHEDULER_CONNECT_TIMEOUT_S) -> None:
    """Fail, with one line, unless a Dask scheduler answers an ``identity`` request in time.

    ``distributed.Client`` waits forever on a listener that accepts the connection but never
    speaks Dask's protocol (a web server on that port, say); this probe bounds every step.
    """
    try:
        reply = asyncio.run(_identity(address, timeout_s))
    except TimeoutError:  # (a subclass of OSError)
        raise InputError(
            f"--scheduler {address}: no Dask scheduler answered within {timeout_s:g} s"
        ) from None
    except OSError as exc:
        raise InputError(f"--scheduler {address}: not a Dask scheduler ({exc})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = reply.get("type") if isinstance(reply, dict) else type(reply).__name__
        raise InputError(f"--scheduler {address}: answered as {kind!r}, not as a Dask scheduler")


class DaskExecutor:
    """Run items as Dask tasks, on a running scheduler or on a ``LocalCluster`` started here.

    Parameters
    ----------
    scheduler
        ``tcp://HOST:PORT`` of a running ``dask scheduler``; ``None`` starts a ``LocalCluster``
        of ``workers`` single-threaded worker processes on 127.0.0.1.
    workers
        Size of the ``LocalCluster`` (ignored with ``scheduler``).
    max_attempts
        Worker deaths a task may cause on the ``LocalCluster`` before the scheduler gives up
        (``distributed.scheduler.allowed-failures``); a remote scheduler keeps its own setting.
    """

    name = "dask"

    def __init__(
        self, scheduler: str | None, workers: int, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self.max_attempts = max_attempts
        self._client: Any = None
        self._cluster: Any = None
        self._log_levels: dict[str, int] = {}

    def describe(self) -> str:
        """A short description for logs and the sweep's manifest."""
        if self.scheduler:
            return f"dask scheduler {self.scheduler}"
        return f"dask LocalCluster, {self.workers} worker process{'es' if self.workers != 1 else ''}"

    def __enter__(self) -> DaskExecutor:
        self._quiet_dask_logs()
        try:
            if self.scheduler:
                self._connect()
            else:
                self._start_local_cluster()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _connect(self) -> None:
        from distributed import Client  # deferred: dask is heavy and only the Dask executor needs it

        check_scheduler_reachable(self.scheduler)
        check_is_scheduler(self.scheduler, SCHEDULER_CONNECT_TIMEOUT_S)
        self._client = Client(
            self.scheduler, timeout=f"{SCHEDULER_CONNECT_TIMEOUT_S}s", set_as_default=False
        )

    def _start_local_cluster(self) -> None:
        import dask  # deferred: dask is heavy and only the Dask executor needs it
        from distributed import Client, LocalCluster

        with dask.config.set({"distributed.scheduler.allowed-failures": self.max_attempts - 1}):
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,  # runs are single-threaded SimPy loops; processes scale
                processes=True,
                host="127.0.0.1",  # loopback only: nothing is exposed on the network
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
        self._client = Client(self._cluster, set_as_default=False)

    def _quiet_dask_logs(self) -> None:
        # A dying worker is expected and handled here; dask's own log lines about it (and about
        # keys it could not gather from the dead worker) would read like a failure. -vv keeps them.
        if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
            return
        # deferred: dask is heavy and only the Dask executor needs it
        import distributed  # noqa: F401 - creates its loggers, some with levels of their own

        names = [name for name in logging.root.manager.loggerDict
                 if name == "distributed" or name.startswith("distributed.")]
        for name in names:
            logger = logging.getLogger(name)
            self._log_levels[name] = logger.level
            logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels.clear()

    def map_unordered(self, fn: Callable[[T], Any], items: Sequence[T]) -> Iterator[Completion[T]]:
        """Yield a :class:`Completion` for every item, in the order they finish."""
        from distributed import as_completed  # deferred: dask is heavy and only the Dask executor needs it
        from distributed.scheduler import KilledWorker

        if self._client is None:
            raise RuntimeError("DaskExecutor used outside its `with` block")
        futures = {self._client.submit(fn, item, pure=False): index for index, item in enumerate(items)}
        try:
            for future in as_completed(list(futures), loop=self._client.loop):
                index = futures[future]
                try:
                    value = future.result()
                except KilledWorker as exc:
                    value = WorkerLost(None, f"worker process died on every attempt ({exc})")
                yield Completion(items[index], value, None)
        finally:
            self._client.cancel([future for future in futures if not future.done()])
