"""Where trials run: worker processes on this machine, or a Dask cluster.

Both executors have the same two methods. ``run(job, data, trials, stopping,
ready)`` starts its workers and sends the data set to each of them once, calls
``ready()`` (when given) once every worker holds the data and has loaded the
training code, then runs the trials a sampler (:mod:`.samplers`) gives, one
``take()`` per free worker, and yields each
trial's record as it finishes (in the order they finish), before the next
``take()``: a sampler told a record can choose the next trial from it;
``cancel()`` may be called from another thread and ends the run soon after:
trials not started are dropped, running ones are abandoned, and ``run``
returns. ``stopping()`` is polled between records for the same purpose.

A trial whose worker dies is run again once; when its worker dies again it is
recorded as failed, and the search goes on. A trial that raises is treated
alike (run again once, then recorded as failed with the error).

- :class:`LocalExecutor`: one process per core (``spawn``), each training one
  trial at a time on one OpenBLAS thread; the data set reaches each process
  once (through shared memory when it is large), and trials start once every
  process has it. ``worker`` is ``local:PID``.
- :class:`DaskExecutor`: ``tcp://HOST:PORT`` of a running scheduler, or
  ``local`` for a :class:`distributed.LocalCluster` of single-threaded worker
  processes. The data set goes to the scheduler once, as the argument of one
  task, and its result is copied to every worker (``replicate``), which
  loads the training code as it unpacks it; each trial is a task that depends on it
  (``retries=1``) and results stream back through ``as_completed`` (a result
  lost with its worker before it was read is waited for while the scheduler
  computes it again). Not ``scatter(broadcast=True)``: scattered data
  die with the last worker holding them, and every trial waiting for them is
  cancelled; a task's result is computed again. A worker's death is the
  scheduler's business: a LocalCluster started here lets a task meet one
  dead worker (its ``allowed-failures`` is 1); a scheduler of your own
  decides for itself (Dask's default lets three workers die). ``worker`` is
  the Dask worker's address. A cluster left without workers (or a scheduler
  that stops answering) for ``workers_timeout`` seconds (60) ends the run
  with a SearchError; the records yielded before it stand. Dask is optional (``pip install -e ".[cluster]"``) and imported
  only when this executor runs.

Nothing here imports NumPy at module level: a worker process sets its
OpenBLAS thread count before NumPy loads.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from typing import Any

from playground.engine.errors import PlaygroundError

Trials = Any  # a Sampler: take(), again(index, params), bool (trials left), len, in_advance
#: seconds to wait for a Dask scheduler to answer
CONNECT_TIMEOUT = 4.0
#: seconds to wait for a cluster without workers to get one
WORKERS_TIMEOUT = 60.0
#: a scheduler's address: [PROTOCOL://]HOST:PORT, the host a name, an IPv4 address or an [IPv6] one
ADDRESS = re.compile(r"^(?:[a-z]+://)?(?:\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}$")
INSTALL_DASK = 'pip install -e ".[cluster]" (or pip install "dask[distributed]")'


class SearchError(PlaygroundError):
    """A search could not start or go on: no Dask, no scheduler, workers that cannot start."""


def make_executor(scheduler: str | None = None, workers: int | None = None) -> LocalExecutor | DaskExecutor:
    """The local executor, or a Dask one when a scheduler address (or ``local``) is given."""
    if scheduler:
        return DaskExecutor(scheduler, workers)
    return LocalExecutor(workers)


def _check_workers(workers: int | None) -> int | None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SearchError(f"the number of workers must be a whole number >= 1, got {workers!r}")
    return workers


def _error_text(e: BaseException) -> str:
    """The error on one line, its type named unless it is a user's mistake."""
    text = " ".join(str(e).split())
    return text if isinstance(e, PlaygroundError) else f"{type(e).__name__}: {text}"


# ---------------------------------------------------------------------- this machine

def serve_trials(conn) -> None:
    """Entry point of a local worker process: take the job and the data, then run trials until told to end."""
    from playground.engine.search.trial import set_one_thread_env

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the search's to handle: it ends this process
    set_one_thread_env()
    from playground.engine.search.trial import run_trial
    from playground.engine.train.remote import attach_dataset

    worker = f"local:{os.getpid()}"
    shm = None
    try:
        _, job, descriptor = conn.recv()
        data, shm = attach_dataset(descriptor)
        conn.send(("ready",))
        while True:
            message = conn.recv()
            if message is None:
                return
            _, index, params = message
            t0 = time.perf_counter()
            try:
                conn.send(("record", run_trial(job, data, index, params, worker)))
            except Exception as e:  # reported, then this process takes the next trial
                conn.send(("error", index, _error_text(e), time.perf_counter() - t0))
    except (EOFError, OSError):
        pass  # the search is gone
    finally:
        conn.close()
        if shm is not None:
            try:
                shm.close()
            except BufferError:  # views of it are still alive; the process exit unmaps it
                pass


class _Worker:
    def __init__(self, job: Any, descriptor: dict) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork: the caller may run Qt's threads
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve_trials, args=(child,), name="playground-search", daemon=True)
        try:
            self.process.start()
        finally:
            child.close()
        self.name = f"local:{self.process.pid}"
        self.ready = False  # it holds the data and has loaded the training code
        self.trial: tuple[int, dict, float] | None = None
        self.conn.send(("job", job, descriptor))

    def give(self, index: int, params: dict) -> None:
        self.trial = (index, params, time.perf_counter())
        self.conn.send(("trial", index, params))

    def end(self, now: bool) -> None:
        if not now:
            try:
                self.conn.send(None)
            except OSError:
                now = True
        self.process.join(0 if now else 5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


class LocalExecutor:
    """Trials in worker processes on this machine, one per core unless told otherwise."""

    def __init__(self, workers: int | None = None):
        from playground.engine.train.parallel import usable_cpus

        self.workers = _check_workers(workers) or usable_cpus()

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"

    def cancel(self) -> None:
        """Nothing to do: :meth:`run` polls ``stopping`` several times a second."""

    def run(self, job: Any, data: Any, trials: Trials, stopping: Callable[[], bool],
            ready: Callable[[], None] | None = None) -> Iterator[dict]:
        from playground.engine.search.trial import failed_record
        from playground.engine.train.remote import SharedDataset

        queue = trials
        tries: collections.Counter = collections.Counter()
        shared = SharedDataset(data)
        workers: list[_Worker] = []
        starts_left = self.workers + 2 * len(trials)  # a worker that dies as it starts must not loop forever
        started = False  # every first worker is ready: trials are given from now on
        stopped = False
        try:
            while (queue or any(w.trial for w in workers)) and not stopping():
                while len(workers) < min(self.workers, len(queue) + sum(w.trial is not None for w in workers)):
                    if starts_left == 0:
                        raise SearchError("the search's worker processes keep dying as they start; run "
                                          "'playground train' on the project to see why")
                    starts_left -= 1
                    workers.append(_Worker(job, shared.descriptor))
                if not started and all(w.ready for w in workers):
                    started = True
                    if ready is not None:
                        ready()
                for w in workers:
                    if started and w.ready and w.trial is None and queue:
                        w.give(*queue.take())
                woke = wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=0.2)
                for w in list(workers):
                    if w.conn not in woke and w.process.sentinel not in woke:
                        continue
                    try:
                        message = w.conn.recv() if w.conn.poll() else None
                    except (EOFError, OSError):
                        message = None
                    if message is not None and message[0] == "ready":
                        w.ready = True
                        continue
                    if message is not None and message[0] == "record":
                        w.trial = None
                        yield message[1]
                        continue
                    if message is None and w.process.is_alive():
                        continue  # the pipe woke without a whole message
                    index, params, t0 = w.trial if w.trial else (None, None, 0.0)
                    if message is None:  # the process died
                        workers.remove(w)
                        w.end(now=True)
                        why = f"its worker process {w.name} died (exit code {w.process.exitcode})"
                    else:
                        w.trial = None
                        why = message[2]
                    if index is None:
                        continue
                    tries[index] += 1
                    if tries[index] < 2:
                        queue.again(index, params)
                    else:
                        yield failed_record(index, params, w.name, f"tried twice: {why}", time.perf_counter() - t0)
            stopped = stopping()
        finally:
            for w in workers:
                w.end(now=stopped or bool(queue) or any(x.trial for x in workers))
            shared.release()


# ---------------------------------------------------------------------- Dask

def import_distributed():
    """The ``distributed`` module, or a SearchError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SearchError(f"running trials on a Dask cluster needs Dask: {INSTALL_DASK}") from None
    return distributed


def dask_trial(job: Any, data: Any, index: int, params: dict) -> dict:
    """A trial as a Dask task: its record, named after the worker it ran on."""
    from distributed import get_worker

    from playground.engine.search.trial import run_trial

    return run_trial(job, data, index, params, get_worker().address)


class DaskExecutor:
    """Trials as tasks on a Dask cluster: an existing scheduler's address, or ``local`` for a LocalCluster."""

    def __init__(self, scheduler: str, workers: int | None = None, connect_timeout: float = CONNECT_TIMEOUT,
                 workers_timeout: float | None = None):
        if not isinstance(scheduler, str) or not (scheduler.strip() == "local" or ADDRESS.match(scheduler.strip())):
            raise SearchError(f"expected a scheduler address such as tcp://HOST:8786, or 'local', got {scheduler!r}")
        self.scheduler = scheduler.strip()
        self.workers = _check_workers(workers)
        self.connect_timeout = connect_timeout
        self.workers_timeout = WORKERS_TIMEOUT if workers_timeout is None else workers_timeout
        self._cancel: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._alone_since: float | None = None  # when the cluster was last seen without workers

    def __repr__(self) -> str:
        return f"DaskExecutor({self.scheduler!r}, workers={self.workers})"

    def cancel(self) -> None:
        with self._lock:
            cancel = self._cancel
        if cancel is not None:
            cancel()

    def connect(self):
        """A Dask client (and the LocalCluster it owns, or None): both to be closed by the caller."""
        distributed = import_distributed()
        if self.scheduler == "local":
            cluster = local_cluster(self.workers)
            try:
                return distributed.Client(cluster, set_as_default=False), cluster
            except BaseException:
                cluster.close()
                raise
        if self.workers is not None:
            raise SearchError(f"--workers applies to this machine or --scheduler local; the cluster at "
                              f"{self.scheduler} has the workers it was started with")
        try:
            _probe(self.scheduler, self.connect_timeout)
            client = distributed.Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            raise SearchError(f"cannot reach a Dask scheduler at {self.scheduler} ({reason}); start one with "
                              f"'dask scheduler' and workers with 'dask worker ADDRESS', or use --scheduler "
                              f"local") from None
        return client, None

    def run(self, job: Any, data: Any, trials: Trials, stopping: Callable[[], bool],
            ready: Callable[[], None] | None = None) -> Iterator[dict]:
        from distributed import as_completed

        from playground.engine.search.trial import failed_record

        client, cluster = self.connect()
        self._alone_since = None
        futures: dict[Any, tuple[int, dict]] = {}
        tag = uuid.uuid4().hex[:8]

        def cancel() -> None:
            with self._lock:
                pending = [f for f in futures if not f.done()]
            client.cancel(pending)

        try:
            shared = _share(client, data, f"playground-data-{tag}", len(cluster.workers) if cluster else 1,
                            self.workers_timeout, local=cluster is not None)
            if ready is not None:
                ready()

            def submit() -> Any:
                index, params = trials.take()
                with self._lock:
                    future = client.submit(dask_trial, job, shared, index, params, retries=1, pure=False,
                                           key=f"playground-trial-{index}-{tag}")
                    futures[future] = (index, params)
                return future

            # trials known in advance all wait at the scheduler; a sampler that learns gets one per worker
            first = len(trials) if trials.in_advance else max(1, len(client.scheduler_info()["workers"]))
            # results are fetched as they come, on the client's loop: a result lost with its worker as it is
            # read is waited for there while the scheduler computes it again, and nothing here blocks on it
            running = as_completed([submit() for _ in range(min(first, len(trials)))], loop=client.loop,
                                   with_results=True, raise_errors=False)
            with self._lock:
                self._cancel = cancel
            while not running.is_empty() and not stopping():
                done = self._next(client, running, stopping, len(trials))
                if done is None:
                    continue
                if stopping():  # Stop cancels the running trials: none of them failed
                    break
                future, result = done
                index, params = futures[future]
                if future.status == "finished":
                    yield result
                elif future.status == "error":
                    yield failed_record(index, params, "", f"tried twice: {_error_text(future.exception())}")
                elif client.status != "running":  # the client lost its scheduler, which cancels every future
                    unfinished = running.count() + len(trials) + 1
                    raise SearchError(f"lost the connection to the Dask scheduler at {client.scheduler.address}, "
                                      f"so {unfinished} trial{'s' if unfinished != 1 else ''} could not finish (the "
                                      f"finished ones are kept); check that the scheduler runs and search again")
                else:
                    yield failed_record(index, params, "", "cancelled by the Dask scheduler")
                if trials and not stopping():
                    running.add(submit())
        finally:
            with self._lock:
                self._cancel = None
            cancel()
            client.close()
            if cluster is not None:
                cluster.close()


    def _next(self, client: Any, running: Any, stopping: Callable[[], bool], waiting: int) -> Any:
        """The next (future, result) of ``running``, or None after half a second without one (so ``stopping``
        is polled during long trials). Raises SearchError when the cluster has had no worker (or no
        scheduler) for :attr:`workers_timeout` seconds: its trials would wait for ever."""
        with running.thread_condition:  # as_completed queues a finished future, then notifies under this lock
            if not running.has_ready():
                running.thread_condition.wait(timeout=0.5)
        if running.has_ready():
            self._alone_since = None
            return next(running)
        if stopping():
            return None
        try:
            workers = len(client.nthreads(callback_timeout=self.connect_timeout))
        except (OSError, TimeoutError):  # the scheduler is gone, or does not answer
            workers = -1
        now = time.monotonic()
        if workers > 0 or self._alone_since is None:
            self._alone_since = None if workers > 0 else now
            return None
        if now - self._alone_since >= self.workers_timeout:
            address = client.scheduler.address
            unfinished = running.count() + waiting
            trials = f"{unfinished} trial{'s' if unfinished != 1 else ''}"
            if workers < 0:
                raise SearchError(f"the Dask scheduler at {address} has not answered for {self.workers_timeout:g} "
                                  f"s, so {trials} could not finish (the finished ones are kept); check that the "
                                  f"scheduler runs (or start it again) and search again")
            raise SearchError(f"the Dask cluster at {address} has had no worker for {self.workers_timeout:g} s, "
                              f"so {trials} could not finish (the finished ones are kept); start workers with "
                              f"'dask worker {address}' and search again")
        return None


def _probe(address: str, timeout: float) -> None:
    """Raise OSError at once when nothing listens at a TCP address: a Dask client would retry until its
    timeout, and leave its event-loop thread behind when it gives up."""
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp") or not port.isdigit():
        return  # TLS, UCX or an address Dask reads its own way: the client finds out
    with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
        pass


def share_data(data: Any) -> Any:
    """The data set as the result of a task, which the scheduler can compute again if every copy is lost."""
    return data


def _share(client: Any, data: Any, key: str, workers: int = 1, timeout: float = WORKERS_TIMEOUT,
           local: bool = False) -> Any:
    """``data`` on every worker, sent once to each: a task the scheduler keeps (so the data set outlives the
    workers holding it, unlike scattered data), its result copied to every worker (unpacking it loads the
    training code there). Waits for ``workers`` workers (a cluster started here has them all soon)."""
    import warnings

    try:
        client.wait_for_workers(workers, timeout=timeout)
    except TimeoutError:
        if local:  # --scheduler local: its worker processes are started here, not by the user
            raise SearchError(f"the Dask cluster started here has had fewer than its {workers} workers for "
                              f"{timeout:g} s: its worker processes did not start; search without --scheduler to "
                              f"use this machine's processes, or see why with 'playground train' on the project"
                              ) from None
        raise SearchError(f"the Dask cluster at {client.scheduler.address} has had "
                          f"{'no worker' if workers == 1 else f'fewer than {workers} workers'} for "
                          f"{timeout:g} s; start workers with 'dask worker {client.scheduler.address}'") from None
    with warnings.catch_warnings():  # the data set is meant to travel in the graph, once
        warnings.filterwarnings("ignore", message="Sending large graph")
        shared = client.submit(share_data, data, key=key, pure=False)
    client.replicate([shared])  # waits for the task first
    return shared


def local_cluster(workers: int | None = None):
    """A Dask LocalCluster on this machine: one single-threaded worker process per core (or ``workers``).

    A task meets at most one dead worker before it fails (``allowed-failures`` 1). A worker holds only the
    task it runs (``worker-saturation`` 1), so its death counts against no other trial, and the trials not
    started wait at the scheduler, where Stop drops them. The workers do not profile themselves: sampling
    every thread's stack each 10 ms takes the GIL from a trial's many small NumPy calls and made trials
    1.7x slower (a cluster of your own: start its workers with DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False).
    """
    import dask
    import distributed

    from playground.engine.train.parallel import THREAD_ENV, usable_cpus

    one_thread = {f"distributed.nanny.pre-spawn-environ.{key}": "1" for key in THREAD_ENV}
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.profile.enabled": False, **one_thread}):
        return distributed.LocalCluster(n_workers=workers or usable_cpus(), threads_per_worker=1, processes=True,
                                        host="127.0.0.1", silence_logs=logging.CRITICAL,
                                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
