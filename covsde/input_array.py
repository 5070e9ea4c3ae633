"""The inputs of ``covsde kernel --inputs FILE.npy``: read the header, refuse, then load.

A ``.npy`` file states its shape and dtype in a short header before the data. A 200-byte file can
claim a 10^5 × 10^5 array; ``numpy.load`` would then try to allocate 75 GiB. The header is read
first (``numpy.lib.format.read_magic`` and ``read_array_header_1_0/2_0``) and the file is refused,
before any data is read, when the array is not a 2-D array of real numbers, is empty, would need more
than :data:`MEMORY_LIMIT` (its float64 copy plus the m × m Gram matrix and kernel), or is shorter
than its header says. Object arrays are refused from the header too (``allow_pickle=False``
everywhere: loading one would run pickled code).
"""
from __future__ import annotations

import os

import numpy as np
from numpy.lib import format as npy_format

from covsde.derive.errors import InputError

#: The most memory the inputs may need: their float64 copy and two m × m arrays (Gram, kernel).
MEMORY_LIMIT = 2 * 1024 ** 3


def byte_size(count: float) -> str:
    """A number of bytes for a message: ``"74.5 GiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.3g} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _header(handle, path):
    """(shape, dtype) from the header of an open .npy file; InputError if it has none."""
    try:
        version = npy_format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(handle)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]}")
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} is not a .npy array file numpy.save can write ({reason}); give an (m, n0) "
                         "array saved with numpy.save") from None
    return shape, dtype


def read_input_rows(path: str, option: str = "--inputs") -> np.ndarray:
    """The rows of the (m, n0) real array saved at ``path``, as float64, checked before loading.

    Returns
    -------
    X : (m, n0) float64, finite, m >= 1, n0 >= 1.

    Raises
    ------
    InputError
        One sentence: the file cannot be read, is not a .npy file, or holds something other than a
        finite real (m, n0) array within :data:`MEMORY_LIMIT` (the size is stated).
    """
    try:
        with open(path, "rb") as handle:
            shape, dtype = _header(handle, path)
            data_offset = handle.tell()
        file_size = os.path.getsize(path)
    except OSError as exc:
        raise InputError(f"cannot read {option} {path}: {exc.strerror or type(exc).__name__}; give an "
                         "(m, n0) array saved with numpy.save") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"{path} holds {'Python objects' if dtype.hasobject else 'records'} "
                         f"(dtype {dtype}); give an array of real numbers")
    if dtype.kind == "c":
        raise InputError(f"{path} holds complex numbers (dtype {dtype}); the inputs must be real: save "
                         "the real part (or the real and imaginary parts as separate columns)")
    if dtype.kind not in "iuf":
        raise InputError(f"{path} holds {dtype} values; give an array of real numbers")
    if len(shape) != 2:
        raise InputError(f"{path} holds an array of shape {shape}; give a 2-D (m, n0) array, one input "
                         "per row")
    m, n0 = shape
    if m == 0 or n0 == 0:
        raise InputError(f"{path} holds an empty array of shape {shape}; give at least one input of "
                         "at least one coordinate")
    needed = 8.0 * m * n0 + 2 * 8.0 * m * m
    if needed > MEMORY_LIMIT:
        raise InputError(f"{path} claims a {m} × {n0} array: its inputs and their {m} × {m} Gram matrix "
                         f"and kernel need {byte_size(needed)}, over the {byte_size(MEMORY_LIMIT)} "
                         "this command allows; give fewer inputs")
    data_size = m * n0 * dtype.itemsize
    if file_size < data_offset + data_size:
        raise InputError(f"{path} is truncated: its header claims {byte_size(data_size)} of data, the "
                         f"file holds {byte_size(max(file_size - data_offset, 0))}")
    try:
        rows = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot read {option} {path}: {exc}") from None
    rows = rows.astype(np.float64)
    if not np.all(np.isfinite(rows)):
        raise InputError(f"{path} has non-finite entries (inf or nan); give finite inputs")
    return rows
