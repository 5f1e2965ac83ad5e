"""Turn any picture of one digit into a 28 x 28 MNIST-style input.

MNIST digits were made this way (LeCun et al.): the digit's bounding box is
scaled, keeping its aspect ratio and anti-aliased, to fit a 20 x 20 box,
which is then placed in a 28 x 28 field so that the centre of mass of the
ink falls on pixel (14, 14). :func:`preprocess_digit` does the same to a
photo, a scan or a drawing-pad canvas, after deciding which way round the
ink is (the ink is the minority, so a light background means dark ink) and
stretching the ink to 1 and the background to 0. ``playground predict`` and
the drawing pad share it; :func:`preprocess_digit_steps` keeps every
intermediate image so the app can show the pipeline.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.engine.errors import DataError, FileFormatError

#: side of the MNIST field and of the box the digit is scaled to fit
FIELD = 28
BOX = 20
#: the pixel the ink's centre of mass is moved to (measured on MNIST: 14.0, 14.0)
CENTRE = 14.0
#: ink darker than this (after stretching to [0, 1]) does not count for the bounding box
INK_THRESHOLD = 0.2
#: pixels of the surroundings kept around the fitted box, for the faint edge the bbox leaves out
MARGIN = 2
#: an image whose ink and background differ by less than this is empty
MIN_CONTRAST = 0.08

#: the image formats read (Pillow's names); others are never opened, whatever the file's name
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
_FORMAT_NAMES = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WebP")
#: the most pixels an image file may have, checked before it is decoded (a 48-megapixel photo has fewer)
MAX_IMAGE_PIXELS = 50_000_000
#: a larger image is shrunk by a whole factor to at most this many pixels before it becomes floats:
#: its digit ends up 20 pixels high anyway
WORK_PIXELS = 1 << 22

# ITU-R 601-2 luma, as Pillow's "L" mode.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True, eq=False)
class DigitSteps:
    """The pipeline of :func:`preprocess_digit`, step by step.

    ``gray``: the input as float32 in [0, 1], white ink on black, background
    stretched to 0 and the brightest ink to 1 (input size).
    ``inverted``: whether the input had dark ink on a light background.
    ``bbox``: ``(top, left, bottom, right)`` of the ink in input pixels,
    bottom/right exclusive; None when empty.
    ``fitted``: the bounding box scaled to fit 20 x 20 (one side is 20), with a
    :data:`MARGIN` of its scaled surroundings on every side.
    ``boxed``: ``fitted`` pasted with its box in the middle of a 28 x 28 field.
    ``shift``: ``(dy, dx)`` moving ``boxed`` to ``final`` to centre the mass.
    ``final``: the 28 x 28 float32 network input.
    ``empty``: no ink was found; ``final`` is all zeros.
    """

    gray: np.ndarray
    inverted: bool
    bbox: tuple[int, int, int, int] | None
    fitted: np.ndarray
    boxed: np.ndarray
    shift: tuple[int, int]
    final: np.ndarray
    empty: bool


def to_gray(image: np.ndarray) -> np.ndarray:
    """A 2-D float32 copy in [0, 1] of a grayscale, RGB or RGBA array of any numeric dtype.

    uint8 is divided by 255 and uint16 by 65535. Other dtypes are taken as
    0..1 (clipped) when their maximum is at most 2, as 0..255 when it is at
    most 255, else scaled by their maximum.
    Transparent pixels are laid over the colour that contrasts with the ink
    (white under dark ink, black under light ink).
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4))):
        raise DataError(f"a digit image must be a 2-D grayscale array or H x W x 3/4 colour array, "
                        f"got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise DataError(f"a digit image needs at least one pixel, got shape {a.shape}")
    if a.dtype == bool:
        v = a.astype(np.float64)
    elif np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating):
        v = a.astype(np.float64)
        if a.dtype == np.uint8:
            v /= 255.0
        elif a.dtype == np.uint16:
            v /= 65535.0
        else:
            if not np.all(np.isfinite(v)):
                raise DataError("a digit image must not contain NaN or infinite values")
            top = v.max()
            if top > 255.0:
                v /= top
            elif top > 2.0:
                v /= 255.0
        np.clip(v, 0.0, 1.0, out=v)
    else:
        raise DataError(f"a digit image must hold numbers, got dtype {a.dtype}")
    if v.ndim == 2:
        return v.astype(np.float32)
    colour, alpha = (v[..., :1], v[..., 1]) if v.shape[2] == 2 else (v[..., :3], v[..., 3] if v.shape[2] == 4 else None)
    luma = colour[..., 0] if colour.shape[2] == 1 else colour @ _LUMA
    if alpha is not None and alpha.min() < 1.0:
        weight = alpha.sum()
        ink = (luma * alpha).sum() / weight if weight > 0 else 0.0
        under = 1.0 if ink < 0.5 else 0.0
        luma = luma * alpha + under * (1.0 - alpha)
    return luma.astype(np.float32)


def _border(v: np.ndarray) -> np.ndarray:
    if min(v.shape) <= 2:
        return v.ravel()
    return np.concatenate([v[0], v[-1], v[1:-1, 0], v[1:-1, -1]])


def _fit(gray: np.ndarray, bbox: tuple[int, int, int, int], height: int, width: int) -> np.ndarray:
    """Scale ``gray``'s bbox to ``height`` x ``width`` with :data:`MARGIN` pixels of its surroundings.

    The margin keeps the faint anti-aliased edge that the bounding box (taken
    at :data:`INK_THRESHOLD`) leaves out. Area averaging when shrinking,
    bicubic when enlarging; float32 in [0, 1].
    """
    top, left, bottom, right = bbox
    sy, sx = height / (bottom - top), width / (right - left)
    pad = int(np.ceil(MARGIN / min(sy, sx))) + 1
    region = np.zeros((bottom - top + 2 * pad, right - left + 2 * pad), np.float32)
    t0, l0 = max(top - pad, 0), max(left - pad, 0)
    b0, r0 = min(bottom + pad, gray.shape[0]), min(right + pad, gray.shape[1])
    region[t0 - top + pad:b0 - top + pad, l0 - left + pad:r0 - left + pad] = gray[t0:b0, l0:r0]
    box = (pad - MARGIN / sx, pad - MARGIN / sy, pad + (right - left) + MARGIN / sx,
           pad + (bottom - top) + MARGIN / sy)
    shrinking = sy <= 1 and sx <= 1
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC
    out = Image.fromarray(region).resize((width + 2 * MARGIN, height + 2 * MARGIN), resample, box=box)
    return np.clip(np.asarray(out), 0.0, 1.0).astype(np.float32)


def _paste(field: np.ndarray, image: np.ndarray, y: int, x: int) -> None:
    """``field[y:, x:] = image``, clipped to the field."""
    h, w = image.shape
    fy0, fx0 = max(y, 0), max(x, 0)
    fy1, fx1 = min(y + h, field.shape[0]), min(x + w, field.shape[1])
    field[fy0:fy1, fx0:fx1] = image[fy0 - y:fy1 - y, fx0 - x:fx1 - x]


def _centre_of_mass(v: np.ndarray) -> tuple[float, float]:
    mass = v.sum()
    cy = float(v.sum(axis=1) @ np.arange(v.shape[0])) / mass
    cx = float(v.sum(axis=0) @ np.arange(v.shape[1])) / mass
    return cy, cx


def preprocess_digit_steps(image: np.ndarray) -> DigitSteps:
    """Every step of :func:`preprocess_digit` (see :class:`DigitSteps`)."""
    v = to_gray(image)
    background = float(np.median(_border(v)))
    inverted = background > (float(v.min()) + float(v.max())) / 2
    if inverted:
        v = 1.0 - v
        background = 1.0 - background
    contrast = float(v.max()) - background
    zeros = np.zeros((FIELD, FIELD), np.float32)
    if contrast < MIN_CONTRAST:
        return DigitSteps(np.zeros_like(v), inverted, None, np.zeros((0, 0), np.float32), zeros,
                          (0, 0), zeros.copy(), True)
    gray = np.clip((v - background) / contrast, 0.0, 1.0).astype(np.float32)

    ink = gray > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    bbox = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    h, w = bbox[2] - bbox[0], bbox[3] - bbox[1]
    scale = BOX / max(h, w)
    fh, fw = max(1, min(BOX, round(h * scale))), max(1, min(BOX, round(w * scale)))
    fitted = _fit(gray, bbox, fh, fw)

    # Positions are of the fitted box without its margin.
    y0, x0 = (FIELD - fh) // 2, (FIELD - fw) // 2
    boxed = zeros.copy()
    _paste(boxed, fitted, y0 - MARGIN, x0 - MARGIN)
    if fitted.sum() > 0:
        cy, cx = _centre_of_mass(fitted)
        # A whole-pixel shift, as MNIST's; the 20 x 20 box never leaves the field.
        y1 = min(max(round(CENTRE - cy) + MARGIN, 0), FIELD - fh)
        x1 = min(max(round(CENTRE - cx) + MARGIN, 0), FIELD - fw)
    else:
        y1, x1 = y0, x0
    final = zeros.copy()
    _paste(final, fitted, y1 - MARGIN, x1 - MARGIN)
    return DigitSteps(gray, inverted, bbox, fitted, boxed, (y1 - y0, x1 - x0), final, False)


def preprocess_digit(image: np.ndarray) -> np.ndarray:
    """A float32 28 x 28 array in [0, 1], white ink on black, centred as MNIST's digits are.

    ``image``: 2-D grayscale (any size; uint8 0..255 or float 0..1) or
    H x W x 3/4 colour, dark-on-light or light-on-dark. An image without
    ink gives all zeros (:func:`preprocess_digit_steps` says so in ``empty``).
    """
    return preprocess_digit_steps(image).final


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file (PNG, JPEG, BMP, GIF, TIFF or WebP) as a 2-D float32 array in [0, 1].

    Colours become luma, transparency is resolved as in :func:`to_gray`, a
    camera's EXIF rotation is applied, and only the first frame of an
    animation is read. Only :data:`IMAGE_FORMATS` are opened, whatever the
    file's name (Pillow's others include PostScript, which runs Ghostscript),
    and an image of more than :data:`MAX_IMAGE_PIXELS` is refused before it is
    decoded. One of more than :data:`WORK_PIXELS` is shrunk by a whole factor,
    averaging, first. Raises :class:`DataError` for a missing file and
    :class:`FileFormatError` for one that is not a readable image of those formats.
    """
    try:
        path = Path(path)
        exists, is_file = path.exists(), path.is_file()
    except (TypeError, ValueError) as exc:  # not a path, or one with a NUL character
        raise DataError(f"the path of an image file was expected, got {path!r} ({exc})") from None
    if not exists:
        raise DataError(f"image file {path} does not exist")
    if not is_file:
        raise DataError(f"{path} is not a file; an image file (PNG, JPEG, BMP, ...) was expected")
    return to_gray(_decode(path))


def _decode(path: Path) -> np.ndarray:
    """The pixels of the image file at ``path``: uint8 L or RGBA, or float64 for deeper images."""
    # Pillow warns about what is said here in one line (a size it deems a bomb, damaged metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _decode_quietly(path)


def _decode_quietly(path: Path) -> np.ndarray:
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise FileFormatError(
                    f"{path} is {width} x {height} pixels, more than the {MAX_IMAGE_PIXELS:,} an image of a "
                    f"digit may have; shrink it (a digit needs only about 28 x 28) and load it again")
            if width * height == 0:
                raise FileFormatError(f"{path} is {width} x {height} pixels; an image with pixels was expected")
            factor = _shrink_factor(width * height)
            if factor > 1 and img.format == "JPEG":  # decode at a smaller scale: less memory, same average
                img.draft("RGB" if img.mode not in ("L", "1") else "L", (width // factor, height // factor))
                factor = _shrink_factor(img.size[0] * img.size[1])
            img.load()
            return _pixels(ImageOps.exif_transpose(img), factor)
    except FileFormatError:
        raise
    except PermissionError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    except UnidentifiedImageError:
        raise FileFormatError(f"{path} is not an image file of a format read here "
                              f"({', '.join(_FORMAT_NAMES)} expected)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, MemoryError) as exc:
        raise FileFormatError(f"{path} is a damaged or unsupported image: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's decoders fail on damaged files in many ways
        raise FileFormatError(f"{path} is a damaged or unsupported image: {type(exc).__name__}: {exc}") from None


def _shrink_factor(pixels: int) -> int:
    """The whole factor that brings ``pixels`` to at most :data:`WORK_PIXELS` (1 when it is not more)."""
    return max(1, math.ceil(math.sqrt(pixels / WORK_PIXELS)))


def _pixels(img: Image.Image, factor: int = 1) -> np.ndarray:
    """``img`` as an array :func:`to_gray` takes, averaged over ``factor`` x ``factor`` blocks."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 65535.0
        return _reduce(a, factor)
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
    img = img.convert("RGBA" if has_alpha else "L")
    if factor > 1:
        img = img.reduce(factor)
    return np.asarray(img)


def _reduce(a: np.ndarray, factor: int) -> np.ndarray:
    """``a`` averaged over ``factor`` x ``factor`` blocks (the last, partial ones over what they hold)."""
    if factor <= 1:
        return a
    h, w = a.shape[:2]
    rows = np.add.reduceat(a, np.arange(0, h, factor), axis=0) / np.diff(np.r_[0:h:factor, h])[:, None]
    return np.add.reduceat(rows, np.arange(0, w, factor), axis=1) / np.diff(np.r_[0:w:factor, w])[None, :]
