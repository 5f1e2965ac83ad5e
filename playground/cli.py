"""The command line: headless, scriptable, and used to check the app.

    playground                      the desktop app (optionally: a project file or preset to open)
    playground train PROJECT_OR_PRESET [--epochs N] [--batch-size B] [--seed S] [--data-dir DIR] [--out MODEL.npz]
    playground evaluate MODEL.npz [--data-dir DIR] [--split test|train]
    playground predict MODEL.npz IMAGE...
    playground bench [--vs-torch] [--lstm]
    playground data download mnist [--dest DIR]
    playground paths [--function NAME] [--steps N] [--start X Y] [--optimizers ...] [--lr NAME=VALUE ...]
    playground summary PROJECT_OR_PRESET [--json]
    playground export MODEL.npz --format onnx|numpy|pytorch [--out PATH]
    playground search PROJECT_OR_PRESET [--trials N] [--epochs E] [--lr LO HI] [--scheduler ADDRESS|local] ...
    playground lab [NAME [--quick] [--seed S] [--data-dir DIR] [--set KEY=VALUE ...]]
    playground gradcheck PROJECT_OR_PRESET [--seed S] [--data-dir DIR] [--max-entries N]

Results go to stdout as JSON (strict: NaN is written as null); a user's
mistake ends with one line on stderr saying what was expected and what was
found, and exit status 2. A file given with ``--out`` is checked before any
work, and written all or nothing; a run that diverged never replaces it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import zipfile
from typing import Any, Sequence

from playground.jsonout import print_json

COMMANDS = ("train", "evaluate", "predict", "bench", "data", "paths", "export", "summary", "search", "lab", "gradcheck")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other user mistake
        self.exit(2, f"{self.prog}: error: {_printable(message)} (see '{self.prog} --help')\n")


def _printable(text: str, limit: int = 1000) -> str:
    """``text`` on one line: control characters (a typed newline, ESC) escaped, at most ``limit`` characters."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit + 1])
    return out if len(out) <= limit else out[:limit] + "…"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="playground", description="NumPy Neural Network Playground. Without a command, "
                                               "starts the desktop app.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a project or preset, printing one JSON line per epoch")
    t.add_argument("project", metavar="PROJECT_OR_PRESET", help="a project .json or a preset name")
    t.add_argument("--epochs", type=_number(int, 1, True, 1_000_000), help="number of epochs (default: the project's)")
    t.add_argument("--batch-size", type=_number(int, 1, True, 1_000_000),
                   help="mini-batch size (default: the project's)")
    t.add_argument("--seed", type=_number(int, 0, True, 2 ** 63 - 1), help="seed for weights, dropout and batch order")
    t.add_argument("--lr", type=_number(float, 0, False, 1e6), help="learning rate (default: the project's)")
    t.add_argument("--data-dir", help="folder with the MNIST IDX files")
    t.add_argument("--limit", type=_number(int, 1, True, 1_000_000),
                   help="train on the first N training samples only")
    t.add_argument("--out", metavar="MODEL.npz", help="save the trained model here")

    e = sub.add_parser("evaluate", help="loss, accuracy and confusion matrix of a saved model")
    e.add_argument("model", metavar="MODEL.npz")
    e.add_argument("--data-dir", help="folder with the MNIST IDX files")
    e.add_argument("--split", choices=("test", "train"), default="test")

    pr = sub.add_parser("predict", help="read drawn digits from image files")
    pr.add_argument("model", metavar="MODEL.npz")
    pr.add_argument("images", metavar="IMAGE", nargs="+")

    b = sub.add_parser("bench", help="training and inference speed of mlp-mnist, simple-convnet and deep-convnet")
    b.add_argument("--vs-torch", action="store_true", help="measure PyTorch beside us (if installed)")
    b.add_argument("--seconds", type=_number(float, 0, False, 3600), default=5.0, help="time per measurement")
    b.add_argument("--case", action="append", metavar="PRESET",
                   help="measure only this network: mlp-mnist, simple-convnet or deep-convnet (repeatable; "
                        "default all three)")
    b.add_argument("--lstm", action="store_true", help="LSTM training steps per second instead (against "
                                                          "PyTorch's nn.LSTM with --vs-torch)")

    d = sub.add_parser("data", help="data sets")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser, required=True)
    dl = dsub.add_parser("download", help="download a data set into the user cache folder")
    dl.add_argument("dataset", choices=("mnist",))
    dl.add_argument("--dest", help="folder to download into (default: the user cache folder)")
    dl.add_argument("--url", help="base URL of a mirror holding the four .gz files")

    pa = sub.add_parser("paths", help="optimizer paths on a 2-D function, as JSON")
    from playground.lab_cli import add_paths_arguments
    add_paths_arguments(pa)

    su = sub.add_parser("summary", help="a network's layers, output shapes, parameters and multiply-adds")
    from playground.summary_cli import add_summary_arguments
    add_summary_arguments(su)

    ex = sub.add_parser("export", help="a saved model as ONNX, a standalone NumPy file or PyTorch code")
    from playground.export_cli import add_export_arguments
    add_export_arguments(ex)

    se = sub.add_parser("search", help="random hyperparameter search, one JSON line per finished trial")
    from playground.search_cli import add_search_arguments
    add_search_arguments(se)

    from playground.labs_cli import add_lab_parsers
    add_lab_parsers(sub)
    return p


def _number(kind: type, low: float, inclusive: bool, high: float):
    """An argparse type accepting ``kind`` values above ``low`` (or equal, if ``inclusive``) up to ``high``.

    The text is read only when it is short enough to be such a number, so
    400 digits are refused, not converted.
    """
    top = f"{high:,}" if kind is int else f"{high:g}"
    what = f"{'a whole number' if kind is int else 'a number'} {'>=' if inclusive else '>'} {low:g} and <= {top}"

    def parse(text: str):
        v = None
        if len(text) <= 40:
            try:
                v = kind(text)
            except ValueError:
                v = None
        if v is None or not math.isfinite(v) or v < low or (v == low and not inclusive) or v > high:
            shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text):,} characters)"
            raise argparse.ArgumentTypeError(f"expected {what}, got {shown!r}")
        return v

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def _print(obj: Any) -> None:
    print_json(obj)


# ------------------------------------------------------------------ commands

def cmd_train(args: argparse.Namespace) -> int:
    from playground.engine.data.datasets import make_dataset
    from playground.engine.errors import SpecError
    from playground.engine.files import check_output_path
    from playground.engine.nn.network import Network
    from playground.engine.project import resolve_project, save_model
    from playground.engine.train.trainer import TrainConfig, Trainer

    project = resolve_project(args.project)
    if args.out is not None:  # before any work: a typo in --out must not throw a trained model away
        check_output_path(args.out, ".npz", inputs=[args.project] if os.path.exists(args.project) else [])
    training = dict(project["training"])
    if args.epochs is not None:
        training["epochs"] = args.epochs
    if args.batch_size is not None:
        training["batch_size"] = args.batch_size
    if args.seed is not None:
        training["seed"] = args.seed
    if args.lr is not None:
        optimizer = training["optimizer"]
        training["optimizer"] = {**({"type": optimizer} if isinstance(optimizer, str) else optimizer), "lr": args.lr}
    config = TrainConfig.from_dict(training)
    ds_spec = dict(project["dataset"])
    if ds_spec["name"] == "mnist":
        if args.data_dir:
            ds_spec["data_dir"] = args.data_dir
        if args.limit:
            ds_spec["limit"] = args.limit

    def build(input_shape=None) -> Network:
        try:
            return Network(project["network"], seed=config.seed, input_shape=input_shape)
        except SpecError as e:  # the layer's settings are checked here: say which file they are in
            raise SpecError(f"{args.project}: {e}") from None

    # a network that does not build is reported before any data is loaded
    net = build() if project["network"].get("input_shape") else None
    data = make_dataset(ds_spec)
    if net is None:
        net = build(data.input_shape)

    class Printer:
        def on_epoch_end(self, epoch, logs):
            _print({k: logs.get(k) for k in ("epoch", "samples", "loss", "accuracy", "running_loss",
                                              "running_accuracy", "val_loss", "val_accuracy", "seconds", "lr")})

        def on_warning(self, message):
            print(f"playground: warning: {message}", file=sys.stderr, flush=True)

    trainer = Trainer(net, data, config, callbacks=[Printer()])
    trainer.run()
    status = trainer.status
    if status["status"] == "diverged":
        kept = f"; {args.out} was not written" if args.out is not None else ""
        print(f"playground: training diverged: {status['message']}{kept}", file=sys.stderr)
        return 1
    if args.out is not None:
        last = trainer.history[-1] if trainer.history else {}
        save_model(net, args.out, training=config.to_dict(), dataset={k: v for k, v in ds_spec.items()
                                                                      if k != "data_dir"},
                   metrics={k: last.get(k) for k in ("val_loss", "val_accuracy")},
                   extra={"project_name": project.get("name", "")})
    return 0


def _model_dataset(meta: dict, data_dir: str | None):
    from playground.engine.data.datasets import make_dataset
    from playground.engine.errors import FileFormatError

    spec = dict(meta.get("dataset") or {})
    if not spec.get("name"):
        raise FileFormatError("the model file does not say which data set it was trained on")
    if spec["name"] == "mnist":
        spec.pop("limit", None)
        spec.pop("val_limit", None)
        if data_dir:
            spec["data_dir"] = data_dir
    return make_dataset(spec)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from playground.engine.metrics import confusion_matrix, precision_recall_f1
    from playground.engine.project import load_model
    from playground.engine.train.parallel import shard_pool
    from playground.engine.train.trainer import evaluate

    net, meta = load_model(args.model)
    data = _model_dataset(meta, args.data_dir)
    x, y = (data.x_val, data.y_val) if args.split == "test" else (data.x_train, data.y_train)
    classification = data.kind == "classification"
    with shard_pool(net.shardable) as pool:  # a convnet's batches two at a time, one per core
        res = evaluate(net, x, y, classification=classification, return_predictions=True, pool=pool)
    out: dict[str, Any] = {"split": args.split, "n": int(len(x)), "loss": res["loss"], "accuracy": res["accuracy"]}
    pred = res.pop("predictions")
    if classification:
        cm = confusion_matrix(pred, y, data.n_classes)
        out["confusion_matrix"] = cm.tolist()
        out.update(precision_recall_f1(cm))
    else:
        out.update({k: v for k, v in res.items() if k in ("mse", "mae", "r2")})
    _print(out)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """One JSON line per image: its digit and whether that is sure, or ``{"file", "error"}``; exit 2 if any failed."""
    import numpy as np

    from playground.engine.errors import PlaygroundError, SpecError
    from playground.engine.data.preprocess import load_image, preprocess_digit_steps
    from playground.engine.data.digit_judge import judge
    from playground.engine.project import load_model

    net, _ = load_model(args.model)
    if math.prod(net.input_shape) != 28 * 28 or net.output_shape != (10,):
        raise SpecError(f"{args.model}: predict needs a digit model with 28×28 inputs and 10 outputs, got inputs "
                        f"{net.input_shape} and outputs {net.output_shape}")
    failed: list[str] = []
    for path in args.images:
        try:
            steps = preprocess_digit_steps(load_image(path))
            if steps.empty:  # judged on the grayscale picture: nothing stands out from the background
                raise PlaygroundError(f"no ink found in {path}: expected a digit that stands out from its "
                                      f"background, got a blank image")
        except (PlaygroundError, OSError, ValueError, MemoryError) as e:
            message = _one_line(e)
            failed.append(message)
            _print({"file": path, "error": message})
            continue
        with np.errstate(all="ignore"):
            p = net.predict(steps.final.reshape((1,) + net.input_shape))[0]
        if not np.isfinite(p).all():  # finite weights so large that the outputs overflow
            message = (f"the model's outputs for {path} are not numbers (its weights are too large); expected "
                       f"probabilities; train the model again with a smaller learning rate")
            failed.append(message)
            _print({"file": path, "error": message})
            continue
        verdict = judge(steps, p)
        line = {"file": path, "digit": verdict.digit, "sure": verdict.sure, "second": verdict.second,
                "probabilities": [round(float(v), 6) for v in p]}
        if not verdict.sure:
            line["reason"] = verdict.reason
        _print(line)
    if failed:
        print(f"playground: error: {len(failed)} of {len(args.images)} images could not be read; the first: "
              f"{failed[0]}", file=sys.stderr)
        return 2
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.lstm:
        from playground.engine.bench_lstm import run_bench_lstm

        _print(run_bench_lstm(vs_torch=args.vs_torch, seconds=args.seconds))
        return 0
    from playground.engine.bench import CASES, run_bench
    from playground.engine.errors import SpecError

    unknown = [c for c in args.case or () if c not in CASES]
    if unknown:
        raise SpecError(f"bench --case: expected one of {', '.join(CASES)}, got {_printable(unknown[0], 60)!r}; "
                        f"leave --case out to measure all of them")
    _print(run_bench(vs_torch=args.vs_torch, seconds_per_case=args.seconds,
                     cases=tuple(dict.fromkeys(args.case)) if args.case else CASES))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from playground.engine.data.mnist import DEFAULT_URL, download_mnist

    bar = _ProgressBar()
    folder = download_mnist(args.dest, base_url=args.url or DEFAULT_URL, progress=bar)
    bar.done()
    _print({"dataset": args.dataset, "folder": str(folder)})
    return 0


class _ProgressBar:
    """A one-line progress bar on stderr: name, percentage, bytes."""

    def __init__(self, width: int = 30):
        self.width = width
        self.current = None

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if name != self.current and self.current is not None:
            sys.stderr.write("\n")
        self.current = name
        if total:
            frac = min(done / total, 1.0)
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            sys.stderr.write(f"\r{name:28s} [{bar}] {frac:6.1%} {done / 1e6:6.1f}/{total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\r{name:28s} {done / 1e6:6.1f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        if self.current is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()


def cmd_paths(args: argparse.Namespace) -> int:
    from playground.lab_cli import run_paths_command

    return run_paths_command(args)


def cmd_lab(args: argparse.Namespace) -> int:
    from playground.labs_cli import run_lab_command

    return run_lab_command(args)


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from playground.labs_cli import run_gradcheck_command

    return run_gradcheck_command(args)


def cmd_search(args: argparse.Namespace) -> int:
    from playground.search_cli import run_search_command

    return run_search_command(args)


def cmd_summary(args: argparse.Namespace) -> int:
    from playground.summary_cli import run_summary_command

    return run_summary_command(args)


def cmd_export(args: argparse.Namespace) -> int:
    from playground.export_cli import run_export_command

    return run_export_command(args)


HANDLERS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "bench": cmd_bench,
            "data": cmd_data, "paths": cmd_paths, "export": cmd_export, "summary": cmd_summary, "search": cmd_search,
            "lab": cmd_lab, "gradcheck": cmd_gradcheck}


#: errors of loading that a loader let through: the last net turns them into one line, not a traceback
_LOADING_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, MemoryError, OSError, zipfile.BadZipFile,
                   json.JSONDecodeError, EOFError)


def _one_line(e: BaseException) -> str:
    """An exception as one line: the message, with its kind where the message alone says too little."""
    from playground.engine.checks import short_path
    from playground.engine.errors import PlaygroundError

    text = _printable(str(e).strip())
    if isinstance(e, MemoryError):
        text = f"not enough memory ({text or 'the input asks for more than this computer has'})"
    elif isinstance(e, RecursionError):
        text = "the input is nested too deeply to read"
    elif isinstance(e, OSError) and e.strerror:
        text = f"{e.strerror}: {short_path(e.filename)}" if e.filename else e.strerror
    if not isinstance(e, (PlaygroundError, OSError, MemoryError, RecursionError)):
        text = f"{type(e).__name__}: {text}"
    return text


def _stop_on_signal(signum, frame):
    """SIGTERM and SIGHUP end the command as Ctrl-C does: files being written are removed, not left."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        from playground.ui.app import run_app

        return run_app(argv)
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    from playground.engine.errors import PlaygroundError

    previous = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, _stop_on_signal)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    try:
        return HANDLERS[args.command](args)
    except PlaygroundError as e:
        print(f"playground: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        _silence_stdout()
        return 141
    except _LOADING_ERRORS as e:
        print(f"playground: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("playground: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
