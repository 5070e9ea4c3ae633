"""The random numbers of one time step: Gaussian normals or two-point (Rademacher) signs.

A step of a scheme needs k standard variables per path (k = ``scheme.normal_count(m)``), laid out
as z (k, P).  Paths come in blocks (``covsde.solvers.sde.driver.BLOCK``); each block draws from its
own ``numpy.random.Generator``, always in the same order, so a path's numbers depend only on the
seed and its index, never on how blocks are grouped into chunks or processes.

``gaussian``    z_j ~ N(0, 1): ``gen.standard_normal`` row by row (j = 0 .. k−1).
``rademacher``  z_j = ±1 with probability 1/2 each, independent.  These have the first three
                moments of N(0, 1) (0, 1, 0), which is all the *simplified weak Euler scheme*
                needs for weak order 1 (Kloeden & Platen 1992, *Numerical Solution of SDEs*,
                §14.1, eq. (14.1.8)–(14.1.9)): laws and expectations converge at the same rate as
                with Gaussian increments, but the paths are not Brownian paths, so there is no
                strong (path-wise) convergence.  64 signs come from one uint64 of the bit
                generator (``bit_generator.random_raw``): a block of n paths draws
                ceil(k n / 64) words per step, and bit i (least significant first, word by word)
                is the sign of z_{i // n}[i % n]: z = 2 bit − 1.
"""
from __future__ import annotations

import numpy as np

from covsde.derive.errors import InputError

NOISES = ("gaussian", "rademacher")


def check_noise(noise: str) -> str:
    """``noise`` if it is one of NOISES, else InputError."""
    if noise not in NOISES:
        raise InputError(f"noise must be one of {list(NOISES)}, got {noise!r}")
    return noise


def sign_word_count(k: int, n: int) -> int:
    """uint64 words one step of a block of n paths draws for k signs per path: ceil(k n / 64)."""
    return -(-k * n // 64)


def draw_normals(gens, slices, z) -> None:
    """Fill z (k, P) with standard normals, block by block (block i: ``gens[i]``, paths ``slices[i]``)."""
    for gen, sl in zip(gens, slices):
        for j in range(z.shape[0]):
            gen.standard_normal(out=z[j, sl])


def draw_sign_words(gens, slices, k: int, words) -> None:
    """Fill ``words`` (blocks, ceil(k·BLOCK/64)) uint64 with the sign bits of one step.

    Block i draws exactly ``sign_word_count(k, n_i)`` words (n_i its number of paths); the rest of
    its row is left as it is and never read.
    """
    for i, (gen, sl) in enumerate(zip(gens, slices)):
        count = sign_word_count(k, sl.stop - sl.start)
        words[i, :count] = gen.bit_generator.random_raw(count)


def signs_from_words(words, slices, z) -> None:
    """z (k, P) = 2 bit − 1 ∈ {−1, +1} from the words of :func:`draw_sign_words`."""
    k = z.shape[0]
    bytes_ = words.astype("<u8", copy=False).view(np.uint8)        # little-endian: bit i of a row
    for i, sl in enumerate(slices):
        n = sl.stop - sl.start
        z[:, sl] = np.unpackbits(bytes_[i], count=k * n, bitorder="little").reshape(k, n)
    z *= 2.0
    z -= 1.0
