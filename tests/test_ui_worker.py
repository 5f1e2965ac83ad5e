"""The window's side of a training process: signals, pause and idle, a worker that dies, cleanup."""

import multiprocessing

import pytest

from playground.engine.train import remote
from playground.engine.data.datasets import make_dataset
from playground.engine.nn.network import Network
from playground.engine.project import load_preset
from playground.ui.worker import ProcessTrainingSession

TIMEOUT = 30000


@pytest.fixture
def session_for():
    """``session_for(epochs, shared)`` → (session, data, progress list); every session is shut down after
    the test, so a failed wait does not leave a worker training for the rest of the run."""
    made = []

    def make(epochs=200, shared=None, **kwargs):
        project = load_preset("spiral")
        data = make_dataset(project["dataset"])
        net = Network(project["network"], seed=0)
        session = ProcessTrainingSession(net, data, {**project["training"], "epochs": epochs},
                                         shared=shared, **kwargs)
        progress = []
        session.progress.connect(progress.append)
        made.append(session)
        return session, data, progress

    yield make
    for session in made:
        assert session.shutdown(5000)


def test_pause_waits_for_the_worker_to_be_idle_and_everything_reported(qtbot, session_for):
    session, _, progress = session_for()
    with qtbot.waitSignal(session.began, timeout=TIMEOUT):
        session.start()
    qtbot.waitUntil(lambda: sum(len(p["steps"]) for p in progress) > 10, timeout=TIMEOUT)
    session.pause()
    assert session.paused and not session.idle  # asked, not yet confirmed by the worker
    qtbot.waitUntil(lambda: session.idle, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: progress[-1]["steps"][-1] == session.steps_done, timeout=TIMEOUT)
    done = session.steps_done
    session.step(2)
    qtbot.waitUntil(lambda: session.idle and session.steps_done == done + 2, timeout=TIMEOUT)
    session.resume()
    assert not session.idle and not session.paused
    with qtbot.waitSignal(session.ended, timeout=TIMEOUT) as ended:
        session.stop()
    assert ended.args[0]["status"] == "cancelled"
    assert session.wait(5000) and not session.is_running()


def test_a_worker_that_dies_is_reported_and_its_memory_released(qtbot, session_for):
    data = make_dataset({"name": "spiral", "n_samples": 2000})
    shared = remote.SharedDataset(data, min_bytes=0)
    session, _, progress = session_for(shared=shared)
    session.start()
    qtbot.waitUntil(lambda: bool(progress), timeout=TIMEOUT)
    with qtbot.waitSignal(session.ended, timeout=TIMEOUT) as ended:
        session._process.kill()  # as if the system ended it (out of memory, a crash in a library)
    result = ended.args[0]
    assert result["status"] == "error" and "ended unexpectedly" in result["message"] \
        and "train again" in result["message"]
    assert session.wait(5000)
    assert shared.released and shared.block is None


def test_a_session_never_started_releases_its_data_on_shutdown(session_for):
    data = make_dataset({"name": "spiral", "n_samples": 2000})
    shared = remote.SharedDataset(data, min_bytes=0)
    session, _, _ = session_for(shared=shared)
    assert session.shutdown(1000) and not session.is_running()
    assert shared.released and shared.block is None


def test_the_trained_weights_come_back_to_the_window(qtbot, session_for):
    session, data, progress = session_for(epochs=3)
    before = session.net.get_weights()
    with qtbot.waitSignal(session.ended, timeout=TIMEOUT) as ended:
        session.start()
    assert ended.args[0]["status"] == "finished"
    after = session.net.get_weights()
    assert any((after[k] != before[k]).any() for k in before)
    assert progress[-1]["steps"][-1] == ended.args[0]["steps"]


def test_a_process_that_cannot_start_ends_the_run_with_a_message(qtbot, session_for, monkeypatch):
    data = make_dataset({"name": "spiral", "n_samples": 2000})
    shared = remote.SharedDataset(data, min_bytes=0)

    def refuse():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(remote, "spawn_worker", refuse)
    session, _, _ = session_for(shared=shared)
    with qtbot.waitSignal(session.ended, timeout=TIMEOUT) as ended:
        session.start()
    assert ended.args[0] == {"status": "error", "message": "the training process could not be started: "
                                                            "Resource temporarily unavailable"}
    assert session.wait(5000) and not session.is_running()
    assert shared.released and shared.block is None


def test_a_garbled_message_ends_the_run_with_a_message(qtbot, session_for, monkeypatch):
    """A message the window does not know ends the run (saying what came), instead of a silent hang."""
    ours, theirs = multiprocessing.Pipe()

    class Gone:  # a process that has already ended
        exitcode = 0

        def is_alive(self):
            return False

        def join(self, timeout=None):
            pass

    monkeypatch.setattr(remote, "spawn_worker", lambda: (Gone(), ours))
    session, _, _ = session_for()
    with qtbot.waitSignal(session.ended, timeout=TIMEOUT) as ended:
        session.start()
        assert theirs.poll(TIMEOUT / 1000) and "network" in theirs.recv()  # the job arrived
        theirs.send(("gossip", 1))
    message = ended.args[0]["message"]
    assert ended.args[0]["status"] == "error" and "'gossip'" in message and "expected one of" in message
    assert session.wait(5000) and not session.is_running()
