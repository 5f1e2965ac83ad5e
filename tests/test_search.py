"""Random hyperparameter search: seeded draws, the data it may touch, trials, both executors, the command."""

import contextlib
import functools
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from playground.engine.errors import DataError, SpecError
from playground.engine.project import load_preset
from playground.engine.search import trial as trial_module
from playground.engine.search.executors import DaskExecutor, LocalExecutor
from playground.engine.search.runner import Search
from playground.engine.search.space import SearchSpace, apply_params, check_fits
from playground.engine.search.trial import TrialJob, run_trial, search_data

REPO = Path(__file__).resolve().parents[1]
RECORD_KEYS = {"trial", "params", "val_accuracy", "val_loss", "train_accuracy", "epochs", "seconds", "worker",
               "status"}


def small_spiral() -> dict:
    """The spiral preset at a test's size: 2-8-2, 200 samples, plain SGD."""
    project = load_preset("spiral")
    project["network"]["layers"] = [{"type": "Dense", "units": 8, "activation": "relu"},
                                    {"type": "Dense", "units": 2}, {"type": "Softmax"}]
    project["dataset"]["n_samples"] = 200
    project["training"].update(optimizer={"type": "sgd", "lr": 0.1}, schedule=None, epochs=2)
    return project


def records_by_trial(records) -> dict:
    return {r["trial"]: r for r in records}


# ------------------------------------------------------------------ hooks run in the workers

def note_start(folder: str, index: int) -> None:
    """Write when trial ``index`` started (this machine's clock)."""
    Path(folder, f"start-{index}").write_text(repr(time.time()))


def faults(marker: str, index: int) -> None:
    """Trial 1's worker process dies the first time the trial starts (``marker`` remembers), trial 2's every
    time, and trial 3 raises; the others run. Each start adds a line to ``marker``-``index``."""
    with open(f"{marker}-{index}", "a") as f:
        f.write("started\n")
    if index == 1 and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(3)
    if index == 2:
        os._exit(3)
    if index == 3:
        raise RuntimeError("this trial cannot run")


def last_worker_dies(index: int) -> None:
    """Trial 1 ends its worker's process (a cluster's only worker, with no nanny to start it again)."""
    if index == 1:
        os._exit(3)


def scheduler_dies(pid: int, index: int) -> None:
    """Trial 1 kills the scheduler (process ``pid``) and waits for it to be gone."""
    if index == 1:
        os.kill(pid, 9)
        time.sleep(5)


# ------------------------------------------------------------------ draws

def test_trial_values_depend_only_on_the_seed_and_the_trial_number():
    space = SearchSpace()
    assert SearchSpace().draw(7, 12) == space.draw(7, 12)  # a fresh space, another moment: the same values
    assert space.draw(7, 12) != space.draw(7, 13) and space.draw(7, 12) != space.draw(8, 12)
    # with choices added, the ranges' values stay what they were
    chosen = SearchSpace(batch_size=(32, 64), optimizer=("sgd", "adam")).draw(7, 12)
    assert (chosen["lr"], chosen["weight_decay"]) == (space.draw(7, 12)["lr"], space.draw(7, 12)["weight_decay"])
    search = Search(small_spiral(), trials=5, seed=7)
    assert [search.params(i) for i in range(5)] == [space.draw(7, i) for i in range(5)]


def test_learning_rate_and_weight_decay_are_log_uniform_in_their_ranges():
    space = SearchSpace(lr=(1e-6, 1e-2), weight_decay=(1e-8, 1e-4))
    draws = [space.draw(0, i) for i in range(4000)]
    lr = np.log10([d["lr"] for d in draws])
    wd = np.log10([d["weight_decay"] for d in draws])
    assert lr.min() >= -6 and lr.max() <= -2 and wd.min() >= -8 and wd.max() <= -4
    # uniform in the exponent: a quarter of the draws in each decade (a linear draw puts 90 % in the top one)
    for exponent, low in ((lr, -6), (wd, -8)):
        shares = np.histogram(exponent, bins=4, range=(low, low + 4))[0] / len(exponent)
        assert np.allclose(shares, 0.25, atol=0.03), shares
    assert SearchSpace(lr=(0.01, 0.01), weight_decay=(0, 0)).draw(3, 4) == {"lr": 0.01, "weight_decay": 0.0}


def test_choices_are_drawn_from_the_values_given_each_about_as_often():
    space = SearchSpace(batch_size=(32, 100), dropout=(0.1, 0.5), init=("he", "xavier_uniform"),
                        optimizer=("SGD", "adam"))
    draws = [space.draw(1, i) for i in range(600)]
    assert {d["init"] for d in draws} == {"he_normal", "xavier_uniform"}
    assert {d["optimizer"] for d in draws} == {"sgd", "adam"}
    for key, value in (("batch_size", 32), ("dropout", 0.5), ("optimizer", "sgd")):
        assert 0.42 < np.mean([d[key] == value for d in draws]) < 0.58


@pytest.mark.parametrize("kwargs,match", [
    ({"lr": (0, 1e-2)}, "learning rate range must be 0 < LOW <= HIGH"),
    ({"lr": (1e-2, 1e-4)}, "got 0.01 0.0001"),
    ({"weight_decay": (0, 1e-4)}, "or 0 0 for none"),
    ({"optimizer": ("sgd", "adamax")}, "unknown optimizer 'adamax'"),
    ({"batch_size": (0,)}, "batch size choice must be a whole number >= 1"),
    ({"dropout": (1.0,)}, r"dropout rate choice must be a number in \[0, 1\)"),
    ({"init": ("glorious",)}, "unknown initializer 'glorious'"),
])
def test_bad_ranges_and_choices_say_what_is_expected(kwargs, match):
    with pytest.raises(SpecError, match=match):
        SearchSpace(**kwargs)


def test_a_trials_values_are_written_into_a_copy_of_the_project():
    project = small_spiral()
    project["network"]["layers"].insert(1, {"type": "Dropout", "rate": 0.5})
    project["training"]["optimizer"] = {"type": "momentum", "lr": 0.1, "momentum": 0.8}
    same = apply_params(project, {"lr": 0.02, "weight_decay": 1e-5, "dropout": 0.25, "init": "xavier_normal",
                                  "batch_size": 16})
    assert same["training"]["optimizer"] == {"type": "momentum", "lr": 0.02, "momentum": 0.8}
    assert same["training"]["weight_decay"] == 1e-5 and same["training"]["batch_size"] == 16
    assert [l.get("rate") for l in same["network"]["layers"]] == [None, 0.25, None, None]
    assert [l.get("init") for l in same["network"]["layers"]] == ["xavier_normal", None, "xavier_normal", None]
    other = apply_params(project, {"lr": 0.003, "weight_decay": 0.0, "optimizer": "adam"})
    assert other["training"]["optimizer"] == {"type": "adam", "lr": 0.003}  # momentum is no Adam setting
    assert project["training"]["optimizer"]["lr"] == 0.1 and project["network"]["layers"][1]["rate"] == 0.5
    with pytest.raises(SpecError, match="no Dropout layer"):
        check_fits(SearchSpace(dropout=(0.1,)), small_spiral())


# ------------------------------------------------------------------ the data a search touches

def tiny_mnist_train_only(folder: Path, n: int = 50) -> Path:
    """MNIST's two *train* files (random pixels, labels 0..9 in turn) and no t10k files at all."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, array in (("train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                        ("train-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))):
        head = (0x0800 | array.ndim).to_bytes(4, "big") + np.array(array.shape, dtype=">u4").tobytes()
        (folder / name).write_bytes(gzip.compress(head + array.tobytes()))
    return folder


def test_the_search_reads_only_the_training_files_and_splits_them(tmp_path, monkeypatch):
    folder = tiny_mnist_train_only(tmp_path / "mnist")
    splits = []
    real = trial_module.load_mnist
    monkeypatch.setattr(trial_module, "load_mnist", lambda *a, **k: splits.append(a[1]) or real(*a, **k))
    project = load_preset("book-search")
    data = search_data(project["dataset"], samples=40, val_split=0.25, seed=3, data_dir=str(folder))
    assert splits == ["train"]
    x_all, _ = real(folder, "train")
    assert len(data.x_train) == 30 and len(data.x_val) == 10
    rows = {x.tobytes(): i for i, x in enumerate(x_all)}
    train_rows = {rows[x.tobytes()] for x in data.x_train}
    val_rows = {rows[x.tobytes()] for x in data.x_val}
    assert not train_rows & val_rows and train_rows | val_rows == set(range(40))  # the first 40, cut in two
    again = search_data(project["dataset"], samples=40, val_split=0.25, seed=4, data_dir=str(folder))
    assert {rows[x.tobytes()] for x in again.x_val} != val_rows  # the cut follows the seed
    # a whole search on this folder: it has no test files, so a trial that opened them would fail
    search = Search(project, trials=2, epochs=1, samples=40, data_dir=str(folder), executor=LocalExecutor(1))
    assert [r["status"] for r in search] == ["finished", "finished"]
    assert set(splits) == {"train"}


def test_a_generated_data_sets_own_validation_part_stays_out_of_the_search():
    from playground.engine.data.datasets import make_dataset

    project = small_spiral()
    full = make_dataset(project["dataset"])
    data = search_data(project["dataset"], seed=0)
    assert len(data.x_train) + len(data.x_val) == len(full.x_train) == 160
    held_out = {x.tobytes() for x in full.x_val}
    assert not held_out & {x.tobytes() for x in np.concatenate([data.x_train, data.x_val])}
    with pytest.raises(DataError, match="has 160 training samples"):
        search_data(project["dataset"], samples=500)
    with pytest.raises(DataError, match="leaves 0 for validation"):
        search_data(project["dataset"], samples=2, val_split=0.2)


# ------------------------------------------------------------------ one trial

def test_a_trial_records_its_curves_and_a_diverged_trial_is_kept_as_such():
    project = small_spiral()
    data = search_data(project["dataset"])
    record = run_trial(TrialJob(project, 3), data, 5, {"lr": 0.05, "weight_decay": 1e-4}, "here")
    assert RECORD_KEYS <= set(record) and record["status"] == "finished" and record["worker"] == "here"
    assert [e["epoch"] for e in record["epochs"]] == [1, 2, 3]
    assert record["val_accuracy"] == record["epochs"][-1]["val_accuracy"]
    assert record["train_accuracy"] == record["epochs"][-1]["accuracy"]
    json.dumps(record, allow_nan=False)
    wild = run_trial(TrialJob(project, 3), data, 6, {"lr": 100.0, "weight_decay": 1.0}, "here")
    assert wild["status"] == "diverged" and "smaller learning rate" in wild["message"]
    assert len(wild["epochs"]) < 3  # the epochs before the blow-up are kept ...
    assert wild["val_accuracy"] == (wild["epochs"][-1]["val_accuracy"] if wild["epochs"] else None)
    json.dumps(wild, allow_nan=False)


def test_a_trial_trains_on_one_core_where_training_alone_would_take_two(tmp_path, monkeypatch):
    from playground.engine.nn.network import Network
    from playground.engine.train import halfbatch, trainer

    project = load_preset("book-search")
    net = Network(project["network"])
    assert halfbatch.worth_it(net, 100, threads=2)  # alone on two cores, a helper process takes half of each batch

    def no_helper(*args, **kwargs):
        raise AssertionError("a trial started a helper process")

    monkeypatch.setattr(trainer, "HalfBatchHelper", no_helper)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    data = search_data(project["dataset"], samples=200, data_dir=str(tiny_mnist_train_only(tmp_path, 200)))
    record = run_trial(TrialJob(project, 1), data, 0, {"lr": 0.01, "weight_decay": 0.0}, "here")
    assert record["status"] == "finished"


# ------------------------------------------------------------------ executors

@pytest.fixture(scope="module", autouse=True)
def _dask_offload_thread():
    """Dask keeps one thread ("Dask-Offload") for the life of the process once a client has used it; start it
    before the per-test check for leaked threads looks (as Dask's own distributed.utils_test does on import)."""
    try:
        from distributed.utils import _offload_executor
    except ImportError:
        return
    _offload_executor.submit(lambda: None).result()


CLUSTER_PROCESS = """
import sys
from playground.engine.search.executors import local_cluster
with local_cluster(2) as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def cluster_process():
    """The address of a Dask cluster as ``--scheduler local`` starts it (LocalCluster(n_workers=2,
    processes=True, threads_per_worker=1)), run by a process of its own as a cluster elsewhere would be:
    the nannies' threads, which restart dead workers, live there and not among this test's threads. The
    address comes once both workers are up."""
    pytest.importorskip("distributed", reason="Dask is the [cluster] extra")
    # the scheduler and the workers unpickle this module's hooks: they import it from here
    path = os.pathsep.join([str(REPO / "tests"), str(REPO), os.environ.get("PYTHONPATH", "")])
    process = subprocess.Popen([sys.executable, "-c", CLUSTER_PROCESS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": path})
    try:
        address = process.stdout.readline().strip()
        assert address.startswith("tcp://"), f"the cluster did not start (exit code {process.poll()})"
        yield address
    finally:
        process.stdin.close()  # the cluster closes and the process ends
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module's tests whose workers do not die."""
    with cluster_process() as address:
        yield address


@pytest.fixture
def fresh_cluster():
    """A cluster for one test, which kills its workers: whatever the nannies are doing when it ends (a worker
    still restarting) is no other test's concern."""
    with cluster_process() as address:
        yield address


SCHEDULER_PROCESS = """
import asyncio, logging, sys
from distributed import Scheduler

logging.getLogger("distributed").setLevel(logging.CRITICAL)

async def main():
    async with Scheduler(host="127.0.0.1", port=0, dashboard=False) as scheduler:
        print(scheduler.address, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@contextlib.contextmanager
def lone_scheduler(workers: int):
    """The address and process id of a Dask scheduler of its own process with ``workers`` workers, each a
    process without a nanny (a worker that dies stays dead), started with 'dask worker ADDRESS --no-nanny'."""
    pytest.importorskip("distributed", reason="Dask is the [cluster] extra")
    path = os.pathsep.join([str(REPO / "tests"), str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    scheduler = subprocess.Popen([sys.executable, "-c", SCHEDULER_PROCESS], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
    processes = [scheduler]
    try:
        address = scheduler.stdout.readline().strip()
        assert address.startswith("tcp://"), f"the scheduler did not start (exit code {scheduler.poll()})"
        processes += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--no-nanny",
                                        "--nthreads", "1", "--no-dashboard"], cwd=REPO, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(workers)]
        yield address, scheduler.pid
    finally:
        scheduler.stdin.close()
        for process in reversed(processes):
            try:
                process.wait(10 if process is scheduler else 0.1)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_cluster_that_loses_its_last_worker_ends_the_search_and_keeps_the_finished_trials():
    """No worker left for workers_timeout seconds: the trials would wait for ever; the search ends with one
    message saying so, and the trials that finished before stay in its results."""
    from playground.engine.search.executors import SearchError

    with lone_scheduler(workers=1) as (address, _):
        search = Search(small_spiral(), trials=4, epochs=1, executor=DaskExecutor(address, workers_timeout=2),
                        hook=last_worker_dies)
        seen = []
        t0 = time.perf_counter()
        watchdog = threading.Timer(45, search.stop)  # a search that waits for ever fails here instead of hanging
        watchdog.start()
        try:
            with pytest.raises(SearchError) as caught:
                for record in search:
                    seen.append(record)
        finally:
            watchdog.cancel()
            watchdog.join()
        waited = time.perf_counter() - t0
    assert waited < 30
    message = str(caught.value)
    assert f"the Dask cluster at {address} has had no worker for 2 s" in message
    unfinished = 4 - len(seen)
    assert f"so {unfinished} trials could not finish (the finished ones are kept)" in message
    assert f"'dask worker {address}'" in message
    assert all(r["status"] == "finished" and r["trial"] != 1 for r in seen)
    assert search.results == seen and search.summary()["trials_done"] == len(seen)


def test_a_scheduler_that_goes_away_ends_the_search_and_keeps_the_finished_trials():
    """Losing the scheduler cancels every trial on the client: not the trials' failure, the search's end."""
    from playground.engine.search.executors import SearchError

    with lone_scheduler(workers=1) as (address, pid):
        search = Search(small_spiral(), trials=4, epochs=1, executor=DaskExecutor(address),
                        hook=functools.partial(scheduler_dies, pid))
        seen = []
        with pytest.raises(SearchError) as caught:
            for record in search:
                seen.append(record)
    unfinished = 4 - len(seen)
    assert str(caught.value) == (f"lost the connection to the Dask scheduler at {address}, so {unfinished} trials "
                                 f"could not finish (the finished ones are kept); check that the scheduler runs "
                                 f"and search again")
    assert all(r["status"] == "finished" for r in seen) and search.results == seen


def test_a_cluster_without_workers_ends_the_command_with_one_line(monkeypatch, capsys):
    from playground.cli import main
    from playground.engine.search import executors

    monkeypatch.setattr(executors, "WORKERS_TIMEOUT", 1.5)
    with lone_scheduler(workers=0) as (address, _):
        t0 = time.perf_counter()
        assert main(["search", "spiral", "--trials", "2", "--epochs", "1", "--samples", "100",
                     "--scheduler", address]) == 2
        assert time.perf_counter() - t0 < 30
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1, err
    assert f"the Dask cluster at {address} has had no worker for 1.5 s" in err
    assert out == ""  # no trial ran: nothing to sum up


def worker_state():
    """In a Dask worker: its BLAS threads and thread variables."""
    from threadpoolctl import threadpool_info

    return {"blas": sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}),
            "env": {key: os.environ.get(key) for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}}


def test_a_local_clusters_workers_use_one_blas_thread(fresh_cluster):
    """Two workers on two cores: each on one BLAS thread, set before NumPy loads (not only inside a trial)."""
    from distributed import Client

    search = Search(small_spiral(), trials=1, epochs=1, executor=DaskExecutor(fresh_cluster))
    assert [r["status"] for r in search] == ["finished"]
    with Client(fresh_cluster, set_as_default=False) as client:
        states = client.run(worker_state)
    assert len(states) == 2
    for state in states.values():
        assert state == {"blas": [1], "env": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}


@pytest.mark.parametrize("where", ["local", "dask"])
def test_trials_start_once_every_worker_holds_the_data(where, tmp_path, request):
    """The start-up (processes or a cluster, the data sent, the code loaded) ends before the first trial, and
    the summary's two times add up to the whole run."""
    executor = LocalExecutor(2) if where == "local" else DaskExecutor(request.getfixturevalue("cluster"))
    search = Search(small_spiral(), trials=4, epochs=1, executor=executor,
                    hook=functools.partial(note_start, str(tmp_path)))
    search.check()
    t0 = time.perf_counter()
    records = list(search)
    whole = time.perf_counter() - t0
    summary = search.summary()
    assert [r["status"] for r in records] == ["finished"] * 4
    assert summary["startup_seconds"] > 0 and summary["wall_seconds"] > 0
    assert summary["startup_seconds"] + summary["wall_seconds"] == pytest.approx(whole, abs=0.05)
    ready = time.time() - whole + summary["startup_seconds"]  # this machine's clock: the workers share it
    starts = [float(f.read_text()) for f in tmp_path.glob("start-*")]
    assert len(starts) == 4 and min(starts) >= ready - 0.005, (min(starts) - ready)


def test_local_processes_and_a_dask_cluster_give_the_same_trials(cluster):
    kwargs = {"trials": 4, "epochs": 3, "seed": 11}
    local = Search(small_spiral(), executor=LocalExecutor(2), **kwargs)
    here = records_by_trial(local)
    dask = Search(small_spiral(), executor=DaskExecutor(cluster), **kwargs)
    there = records_by_trial(dask)
    assert sorted(here) == sorted(there) == [0, 1, 2, 3]
    for i in range(4):
        assert here[i]["params"] == there[i]["params"] == local.params(i)
        assert here[i]["val_accuracy"] == there[i]["val_accuracy"]
        assert here[i]["epochs"] == there[i]["epochs"]  # every loss, bit for bit
    assert {r["worker"].split(":")[0] for r in here.values()} == {"local"}
    assert all(r["worker"].startswith("tcp://127.0.0.1:") for r in there.values())
    assert local.summary()["best"]["trial"] == dask.summary()["best"]["trial"]


@pytest.mark.parametrize("where", ["local", "dask"])
def test_a_trial_whose_worker_dies_is_run_again_then_marked_failed(where, tmp_path, request):
    executor = LocalExecutor(2) if where == "local" else DaskExecutor(request.getfixturevalue("fresh_cluster"))
    marker = tmp_path / "died"
    search = Search(small_spiral(), trials=5, epochs=2, executor=executor,
                    hook=functools.partial(faults, str(marker)))
    records = records_by_trial(search)
    assert marker.exists()  # trial 1 killed its worker once ...
    assert [records[i]["status"] for i in range(5)] == ["finished", "finished", "failed", "failed", "finished"]
    starts = {i: len(Path(f"{marker}-{i}").read_text().splitlines()) for i in range(5)}
    # run again once, never a third time (trial 1's result can be lost with a worker trial 2 kills later, and
    # computed again: a start, not a retry)
    assert starts[2] == starts[3] == 2 and starts[1] >= 2, starts
    assert records[2]["message"].startswith("tried twice: ")  # ... trial 2 twice
    assert ("KilledWorker" if where == "dask" else "died") in records[2]["message"]
    assert records[3]["message"] == "tried twice: RuntimeError: this trial cannot run"
    assert search.summary()["failed"] == 2


@pytest.mark.parametrize("where", ["local", "dask"])
def test_stop_keeps_the_finished_trials_and_drops_the_rest(where, request):
    executor = LocalExecutor(2) if where == "local" else DaskExecutor(request.getfixturevalue("cluster"))
    search = Search(small_spiral(), trials=40, epochs=30, executor=executor)
    seen = []
    stopper = threading.Timer(0.2, search.stop)  # as a window's Stop button would, while trials run
    for record in search:
        seen.append(record)
        if len(seen) == 1:
            stopper.start()
    stopper.join()
    assert 1 <= len(seen) < 40 and search.results == seen
    # the trials Stop cancelled are dropped, not recorded as failed
    assert [r["status"] for r in seen] == ["finished"] * len(seen)
    summary = search.summary()
    assert summary["stopped"] and summary["trials_done"] == len(seen) and summary["failed"] == 0


def test_a_scheduler_where_nothing_listens_is_one_line_within_10_seconds(capsys):
    from playground.cli import main

    pytest.importorskip("distributed", reason="Dask is the [cluster] extra")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    assert main(["search", "spiral", "--trials", "1", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.perf_counter() - t0 < 10
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"cannot reach a Dask scheduler at tcp://127.0.0.1:{port}" in err and "--scheduler local" in err


def test_without_dask_the_scheduler_option_says_how_to_install_it(monkeypatch, capsys):
    from playground.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    assert main(["search", "spiral", "--scheduler", "local"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'pip install -e ".[cluster]"' in err


def test_the_engine_and_the_command_line_load_without_dask():
    code = ("import sys, playground.cli, playground.search_cli, playground.engine.search.runner; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                         check=False)
    assert out.stdout.strip() == "[]", out.stderr


# ------------------------------------------------------------------ the command

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "playground", *map(str, args)], capture_output=True, text=True, check=False,
                          cwd=REPO, timeout=120)


def assert_user_error(res, *fragments):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for f in fragments:
        assert f in err, (f, err)


def test_search_prints_one_line_per_trial_then_a_summary(tmp_path, cluster):
    project = tmp_path / "small.json"
    project.write_text(json.dumps(small_spiral()))
    out = tmp_path / "results.jsonl"
    res = run_cli("search", project, "--trials", "3", "--epochs", "2", "--lr", "1e-3", "1e-1", "--seed", "5",
                  "--workers", "2", "--out", out)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert out.read_text() == res.stdout
    trials, summary = lines[:-1], lines[-1]
    assert sorted(t["trial"] for t in trials) == [0, 1, 2]
    for t in trials:
        assert RECORD_KEYS <= set(t) and t["status"] == "finished" and t["worker"].startswith("local:")
        assert 1e-3 <= t["params"]["lr"] <= 1e-1 and len(t["epochs"]) == 2
    assert {"best", "trials_done", "failed", "startup_seconds", "wall_seconds"} <= set(summary)
    assert summary["trials_done"] == 3 and summary["failed"] == 0 and summary["wall_seconds"] > 0
    assert summary["startup_seconds"] > 0
    assert summary["best"]["val_accuracy"] == max(t["val_accuracy"] for t in trials)
    on_dask = run_cli("search", project, "--trials", "3", "--epochs", "2", "--lr", "1e-3", "1e-1", "--seed", "5",
                      "--scheduler", cluster)
    assert on_dask.returncode == 0, on_dask.stderr
    dask_trials = [json.loads(line) for line in on_dask.stdout.splitlines()][:-1]
    assert {t["trial"]: t["val_accuracy"] for t in dask_trials} == {t["trial"]: t["val_accuracy"] for t in trials}
    assert all(t["worker"].startswith("tcp://") for t in dask_trials)


@pytest.mark.parametrize("args,message", [
    (["spiral", "--lr", "1e-2", "1e-4"], "LOW <= HIGH"),
    (["spiral", "--val-split", "1.5"], "fraction between 0 and 1"),
    (["spiral", "--dropout", "0.2"], "no Dropout layer"),
    (["spiral", "--out", "{tmp}/nowhere/r.jsonl"], "does not exist"),
    (["book-search", "--data-dir", "{tmp}"], "MNIST"),
    (["spiral", "--samples", "1000"], "has 480 training samples"),
    (["spiral", "--workers", "0"], "whole number >= 1"),
    (["spiral", "--scheduler", "nonsense"], "expected a scheduler address such as tcp://HOST:8786"),
])
def test_search_mistakes_end_with_one_line_and_status_2(args, message, tmp_path, capsys):
    from playground.cli import main

    try:
        status = main(["search", *(a.format(tmp=tmp_path) for a in args)])
    except SystemExit as e:  # the argument parser's way out
        status = e.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


# ------------------------------------------------------------------ TPE beside random search

def test_tpe_with_a_seed_gives_the_same_trials_twice_on_one_worker():
    pytest.importorskip("optuna", reason="Optuna is the [cluster] extra")

    def run(seed):
        search = Search(small_spiral(), trials=12, epochs=2, seed=seed, sampler="tpe", executor=LocalExecutor(1))
        return [(r["trial"], r["params"], r["val_accuracy"], r["sampler"]) for r in search]

    first = run(3)
    assert first == run(3)
    assert [t[0] for t in first] == list(range(12)) and {t[3] for t in first} == {"tpe"}
    assert [t[1] for t in first] != [t[1] for t in run(4)]
    # TPE's draws are its own, not the random search's, and stay in the ranges
    random = Search(small_spiral(), trials=12, seed=3)
    assert [t[1] for t in first] != [random.params(i) for i in range(12)]
    assert all(1e-6 <= t[1]["lr"] <= 1e-2 and 1e-8 <= t[1]["weight_decay"] <= 1e-4 for t in first)


def test_tpe_learns_from_the_results_told_to_it():
    from playground.engine.search.samplers import RandomSampler, TpeSampler

    pytest.importorskip("optuna", reason="Optuna is the [cluster] extra")

    def decades_off(sampler_class):
        """How far (in decades) each of 40 trials' learning rates lies from the best, 1e-2."""
        sampler = sampler_class(SearchSpace(lr=(1e-8, 1e4), weight_decay=(0, 0)), seed=0, total=40)
        lrs = []
        while sampler:
            index, params = sampler.take()
            lrs.append(params["lr"])
            assert params["weight_decay"] == 0.0  # a fixed range stays fixed
            score = 1 - abs(np.log10(params["lr"]) + 2) / 12  # accuracy falls with the distance from 1e-2
            sampler.tell({"trial": index, "status": "finished", "val_accuracy": score, "val_loss": 1 - score})
        return np.abs(np.log10(lrs) + 2)

    tpe, random = decades_off(TpeSampler), decades_off(RandomSampler)
    # random search stays 3 decades off on average; TPE's last trials, chosen from the results, come closer
    assert random[30:].mean() > 2.5 and tpe[30:].mean() < 0.6 * random[30:].mean()


def test_a_tpe_search_runs_on_a_local_dask_cluster(cluster):
    pytest.importorskip("optuna", reason="Optuna is the [cluster] extra")
    search = Search(small_spiral(), trials=5, epochs=2, seed=1, sampler="tpe", executor=DaskExecutor(cluster))
    records = records_by_trial(search)
    assert sorted(records) == [0, 1, 2, 3, 4]
    assert all(r["status"] == "finished" and r["sampler"] == "tpe" and r["worker"].startswith("tcp://")
               for r in records.values())
    assert search.summary()["best"]["val_accuracy"] == max(r["val_accuracy"] for r in records.values())


def test_without_optuna_the_tpe_sampler_says_how_to_install_it(monkeypatch, capsys):
    from playground.cli import main

    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(["search", "spiral", "--sampler", "tpe"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs Optuna" in err and 'pip install -e ".[cluster]"' in err


def test_a_search_that_cannot_go_on_prints_the_summary_of_its_finished_trials(monkeypatch, capsys):
    from playground.cli import main
    from playground.engine.search.executors import SearchError

    def run(self):  # one trial finishes, then the cluster is gone
        record = {"trial": 0, "params": {}, "val_accuracy": 0.5, "val_loss": 1.0, "train_accuracy": 0.5,
                  "epochs": [], "seconds": 0.1, "worker": "w", "status": "finished", "sampler": "random"}
        self.results.append(record)
        yield record
        raise SearchError("the Dask cluster at tcp://x:1 has had no worker for 60 s")

    monkeypatch.setattr(Search, "run", run)
    assert main(["search", "spiral", "--trials", "3", "--epochs", "1"]) == 2
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [line.get("trial") for line in lines[:1]] == [0]
    assert lines[-1]["trials_done"] == 1 and lines[-1]["best"]["trial"] == 0
    assert "has had no worker for 60 s" in err
