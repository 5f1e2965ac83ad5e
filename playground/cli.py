"""The command line: headless, scriptable, and used to check the app.

    playground                      the desktop app (optionally: a project file or preset to open)
    playground train PROJECT_OR_PRESET [--epochs N] [--batch-size B] [--seed S] [--data-dir DIR] [--out MODEL.npz]
    playground evaluate MODEL.npz [--data-dir DIR] [--split test|train]
    playground predict MODEL.npz IMAGE...
    playground bench [--vs-torch]
    playground data download mnist [--dest DIR]
    playground paths [--function NAME] [--steps N] [--start X Y] [--optimizers ...] [--lr NAME=VALUE ...]
    playground lab [NAME [--quick] [--seed S] [--data-dir DIR] [--set KEY=VALUE ...]]
    playground gradcheck PROJECT_OR_PRESET [--seed S] [--data-dir DIR] [--max-entries N]

Results go to stdout as JSON; a user's mistake ends with one line on stderr
saying what was expected and what was found, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Sequence

COMMANDS = ("train", "evaluate", "predict", "bench", "data", "paths", "lab", "gradcheck")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other user mistake
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="playground", description="NumPy Neural Network Playground. Without a command, "
                                               "starts the desktop app.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a project or preset, printing one JSON line per epoch")
    t.add_argument("project", metavar="PROJECT_OR_PRESET", help="a project .json or a preset name")
    t.add_argument("--epochs", type=_positive_int, help="number of epochs (default: the project's)")
    t.add_argument("--batch-size", type=_positive_int, help="mini-batch size (default: the project's)")
    t.add_argument("--seed", type=_nonneg_int, help="seed for weights, dropout and batch order")
    t.add_argument("--lr", type=_positive_float, help="learning rate (default: the project's)")
    t.add_argument("--data-dir", help="folder with the MNIST IDX files")
    t.add_argument("--limit", type=_positive_int, help="train on the first N training samples only")
    t.add_argument("--out", metavar="MODEL.npz", help="save the trained model here")

    e = sub.add_parser("evaluate", help="loss, accuracy and confusion matrix of a saved model")
    e.add_argument("model", metavar="MODEL.npz")
    e.add_argument("--data-dir", help="folder with the MNIST IDX files")
    e.add_argument("--split", choices=("test", "train"), default="test")

    pr = sub.add_parser("predict", help="read drawn digits from image files")
    pr.add_argument("model", metavar="MODEL.npz")
    pr.add_argument("images", metavar="IMAGE", nargs="+")

    b = sub.add_parser("bench", help="training and inference speed of mlp-mnist and simple-convnet")
    b.add_argument("--vs-torch", action="store_true", help="measure PyTorch beside us (if installed)")
    b.add_argument("--seconds", type=_positive_float, default=5.0, help="time per measurement")

    d = sub.add_parser("data", help="data sets")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser, required=True)
    dl = dsub.add_parser("download", help="download a data set into the user cache folder")
    dl.add_argument("dataset", choices=("mnist",))
    dl.add_argument("--dest", help="folder to download into (default: the user cache folder)")
    dl.add_argument("--url", help="base URL of a mirror holding the four .gz files")

    pa = sub.add_parser("paths", help="optimizer paths on a 2-D function, as JSON")
    from playground.lab_cli import add_paths_arguments
    add_paths_arguments(pa)
    from playground.labs_cli import add_lab_parsers
    add_lab_parsers(sub)
    return p


def _number(kind: type, low: float, inclusive: bool):
    """An argparse type accepting ``kind`` values above ``low`` (or equal, if ``inclusive``)."""
    what = f"{'a whole number' if kind is int else 'a number'} {'>=' if inclusive else '>'} {low:g}"

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v) or v < low or (v == low and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    parse.__name__ = what  # argparse names the type in its messages
    return parse


_positive_int = _number(int, 1, True)
_nonneg_int = _number(int, 0, True)
_positive_float = _number(float, 0, False)


def _print(obj: Any) -> None:
    print(json.dumps(obj, default=_jsonable), flush=True)


def _jsonable(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


# ------------------------------------------------------------------ commands

def cmd_train(args: argparse.Namespace) -> int:
    from playground.engine.data.datasets import make_dataset
    from playground.engine.nn.network import Network
    from playground.engine.project import save_model
    from playground.engine.train.trainer import TrainConfig, Trainer
    from playground.engine.project import resolve_project

    project = resolve_project(args.project)
    training = dict(project["training"])
    if args.epochs is not None:
        training["epochs"] = args.epochs
    if args.batch_size is not None:
        training["batch_size"] = args.batch_size
    if args.seed is not None:
        training["seed"] = args.seed
    if args.lr is not None:
        training["optimizer"] = {**training["optimizer"], "lr": args.lr}
    config = TrainConfig.from_dict(training)
    ds_spec = dict(project["dataset"])
    if ds_spec["name"] == "mnist":
        if args.data_dir:
            ds_spec["data_dir"] = args.data_dir
        if args.limit:
            ds_spec["limit"] = args.limit
    # a network that does not build is reported before any data is loaded
    shape = project["network"].get("input_shape")
    net = Network(project["network"], seed=config.seed) if shape else None
    data = make_dataset(ds_spec)
    if net is None:
        net = Network(project["network"], seed=config.seed, input_shape=data.input_shape)

    class Printer:
        def on_epoch_end(self, epoch, logs):
            _print({k: logs.get(k) for k in ("epoch", "samples", "loss", "accuracy", "val_loss", "val_accuracy",
                                              "seconds")} | {"lr": logs.get("lr")})

        def on_warning(self, message):
            print(f"playground: warning: {message}", file=sys.stderr, flush=True)

    trainer = Trainer(net, data, config, callbacks=[Printer()])
    trainer.run()
    status = trainer.status
    if args.out:
        last = trainer.history[-1] if trainer.history else {}
        save_model(net, args.out, training=config.to_dict(), dataset={k: v for k, v in ds_spec.items()
                                                                      if k != "data_dir"},
                   metrics={k: last.get(k) for k in ("val_loss", "val_accuracy")},
                   extra={"project_name": project.get("name", "")})
    if status["status"] == "diverged":
        print(f"playground: training stopped: {status['message']}", file=sys.stderr)
        return 1
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
    from playground.engine.train.trainer import evaluate

    net, meta = load_model(args.model)
    data = _model_dataset(meta, args.data_dir)
    x, y = (data.x_val, data.y_val) if args.split == "test" else (data.x_train, data.y_train)
    classification = data.kind == "classification"
    res = evaluate(net, x, y, classification=classification, return_predictions=True)
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
    import numpy as np

    from playground.engine.errors import SpecError
    from playground.engine.data.preprocess import load_image, preprocess_digit
    from playground.engine.project import load_model

    net, _ = load_model(args.model)
    if int(np.prod(net.input_shape)) != 28 * 28 or net.output_shape != (10,):
        raise SpecError(f"{args.model}: predict needs a digit model with 28×28 inputs and 10 outputs, got inputs "
                        f"{net.input_shape} and outputs {net.output_shape}")
    images = [load_image(path) for path in args.images]  # every file is checked before any output
    batch = np.stack([preprocess_digit(img) for img in images]).reshape((len(images),) + net.input_shape)
    probs = net.predict(batch)
    for path, p in zip(args.images, probs):
        _print({"file": path, "digit": int(p.argmax()), "probabilities": [round(float(v), 6) for v in p]})
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from playground.engine.bench import run_bench

    _print(run_bench(vs_torch=args.vs_torch, seconds_per_case=args.seconds))
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


HANDLERS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "bench": cmd_bench,
            "data": cmd_data, "paths": cmd_paths, "lab": cmd_lab, "gradcheck": cmd_gradcheck}


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

    try:
        return HANDLERS[args.command](args)
    except PlaygroundError as e:
        print(f"playground: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("playground: interrupted", file=sys.stderr)
        return 130
