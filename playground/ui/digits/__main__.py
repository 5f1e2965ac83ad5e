"""``python -m playground.ui.digits [--model FILE] [--store DIR] [--mnist DIR]``: the digit pad alone."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.ui.digits", description=__doc__)
    parser.add_argument("--model", help="read with this model file instead of the bundled one (as if trained "
                                        "in the app)")
    parser.add_argument("--bundled", help="use this file as the bundled model")
    parser.add_argument("--store", help="folder of your own digits (default: the app's data folder)")
    parser.add_argument("--mnist", help="MNIST folder for fine-tuning (default: found as the app finds it)")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("numpy-nn-playground")
    app.setApplicationName("numpy-nn-playground")
    from playground.ui.digits.widget import DigitPadWidget

    w = DigitPadWidget(bundled_model=args.bundled, store_dir=args.store, mnist_dir=args.mnist)
    if args.model:
        from playground.engine.errors import PlaygroundError
        from playground.engine.project import load_model

        try:
            net, meta = load_model(args.model)
        except PlaygroundError as e:
            print(f"playground: {e}", file=sys.stderr)
            return 2
        w.set_network(net, f"model from {args.model}")
    w.setWindowTitle("Draw a digit — NumPy Neural Network Playground")
    w.resize(1500, 860)
    w.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
