"""Data for the playground, in one import: MNIST, generated sets, digit preprocessing.

The code lives in :mod:`.mnist` (IDX files, finding and downloading MNIST),
:mod:`.datasets` (generated sets, :func:`make_dataset`, :class:`Dataset`) and
:mod:`.preprocess` (turning a picture of a digit into an MNIST input).
"""

from .datasets import (
    CLASSIFICATION,
    DATASET_DESCRIPTIONS,
    DATASET_KINDS,
    DATASETS,
    REGRESSION,
    Dataset,
    circle,
    default_spec,
    gaussians,
    make_dataset,
    moons,
    sin,
    spiral,
    step,
    xor,
    xsin,
)
from .mnist import (
    DEFAULT_URL,
    ENV_VAR,
    MNIST_FILES,
    MNIST_GZ_FILES,
    MNIST_SHA256,
    default_mnist_dir,
    download_mnist,
    find_mnist_dir,
    how_to_get_mnist,
    load_mnist,
    parse_sha256sums,
    read_idx,
    user_cache_dir,
)
from .preprocess import DigitSteps, load_image, preprocess_digit, preprocess_digit_steps, to_gray

__all__ = [
    "CLASSIFICATION", "DATASET_DESCRIPTIONS", "DATASET_KINDS", "DATASETS", "REGRESSION", "Dataset",
    "circle", "default_spec", "gaussians", "make_dataset", "moons", "sin", "spiral", "step", "xor", "xsin",
    "DEFAULT_URL", "ENV_VAR", "MNIST_FILES", "MNIST_GZ_FILES", "MNIST_SHA256", "default_mnist_dir",
    "download_mnist", "find_mnist_dir", "how_to_get_mnist", "load_mnist", "parse_sha256sums", "read_idx",
    "user_cache_dir",
    "DigitSteps", "load_image", "preprocess_digit", "preprocess_digit_steps", "to_gray",
]
