"""Every random number of the solvers: seed -> SeedSequence -> per-block generators -> increments.

One module decides how a seed becomes numbers, so that every solver (``simulate_sde``,
``richardson_expectation``, ``simulate_norm``, ``simulate_correlation``, the finite networks)
reproduces itself the same way:

1. **Seed.** :func:`seed_sequence` turns an int >= 0, None, a ``SeedSequence`` or a ``Generator``
   (drawn from once) into the root ``numpy.random.SeedSequence``; its ``entropy`` reproduces the run.
2. **Streams.** The root spawns one child per unit of reproducibility (:func:`spawn_streams`): a
   block of ``BLOCK`` paths for the SDE solvers, one network for the finite networks.  Each child
   drives its own ``Generator(PCG64(child))`` (:func:`generators`), always in the same order, so a
   path's (or network's) numbers depend only on the seed and its index, never on how blocks are
   grouped into chunks (:func:`path_chunks`) or processes.
3. **Increments** of one step for a chunk of P paths, laid out as z (k, P) (:class:`BlockDraws`):

   ``gaussian``    z_j ~ N(0, 1): ``gen.standard_normal`` row by row (j = 0 .. k−1).
   ``rademacher``  z_j = ±1 with probability 1/2 each, independent.  These have the first three
                   moments of N(0, 1) (0, 1, 0), which is all the *simplified weak Euler scheme*
                   needs for weak order 1 (Kloeden & Platen 1992, *Numerical Solution of SDEs*,
                   §14.1, eq. (14.1.8)–(14.1.9)): laws and expectations converge at the same rate
                   as with Gaussian increments, but the paths are not Brownian paths, so there is
                   no strong (path-wise) convergence.  64 signs come from one uint64 of the bit
                   generator (``bit_generator.random_raw``): a block of n paths draws
                   ceil(k n / 64) words per step, and bit i (least significant first, word by
                   word) is the sign of z_{i // n}[i % n]: z = 2 bit − 1.

   :class:`StepInputs` holds one step's z for a scheme: its normals first, then its signs.
4. **Coupled step sizes.** :class:`CoupledNormals` drives several step counts N | N_fine with one
   Brownian path: a coarse step's normals are the fine ones inside it, summed and rescaled.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.input_validation import count

#: Increments a step can be driven by (see the module docstring).
NOISES = ("gaussian", "rademacher")
#: Paths per random stream of the SDE solvers (the unit of reproducibility).
BLOCK = 4096


# ------------------------------------------------------------------ seeds and streams
def seed_sequence(seed) -> np.random.SeedSequence:
    """int >= 0, None, SeedSequence or Generator -> SeedSequence (a Generator is drawn from once)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.SeedSequence(seed)
    raise InputError(f"seed must be a non-negative int, None, a numpy SeedSequence or Generator, got {seed!r}")


def spawn_streams(seed, count: int):
    """(root SeedSequence, its ``count`` children): unit i (a block of paths, a network) uses child i."""
    root = seed_sequence(seed)
    return root, root.spawn(count)


def generators(streams) -> list:
    """One ``numpy.random.Generator`` (PCG64) per child SeedSequence."""
    return [np.random.Generator(np.random.PCG64(s)) for s in streams]


def block_count(paths: int) -> int:
    """Blocks of ``BLOCK`` paths that hold ``paths`` paths: ceil(paths / BLOCK)."""
    return -(-paths // BLOCK)


def paths_per_chunk(chunk, default: int) -> int:
    """Paths held in memory at once: ``chunk`` (or ``default`` when None) rounded up to whole blocks."""
    chunk = default if chunk is None else count(chunk, "chunk", 1)
    return -(-chunk // BLOCK) * BLOCK


@dataclass(frozen=True)
class PathChunk:
    """Paths ``start`` .. ``stop`` − 1 and the streams of their blocks (picklable: a process task)."""

    start: int
    stop: int
    streams: tuple

    @property
    def size(self) -> int:
        return self.stop - self.start

    def draws(self) -> "BlockDraws":
        """The generators of this chunk's blocks, fresh (each starts at the beginning of its stream)."""
        return BlockDraws(generators(self.streams), self.size)


def path_chunks(seed, paths: int, chunk: int):
    """(root SeedSequence, [PathChunk]) for ``paths`` paths in chunks of ``chunk`` (a multiple of BLOCK).

    Block i of the whole run draws from ``root.spawn(blocks)[i]`` whatever the chunking.
    """
    root, streams = spawn_streams(seed, block_count(paths))
    per = chunk // BLOCK
    chunks = [PathChunk(first * BLOCK, min((first + per) * BLOCK, paths), tuple(streams[first:first + per]))
              for first in range(0, len(streams), per)]
    return root, chunks


# ------------------------------------------------------------------ increments
def check_noise(noise: str) -> str:
    """``noise`` if it is one of NOISES, else InputError."""
    if noise not in NOISES:
        raise InputError(f"noise must be one of {list(NOISES)}, got {noise!r}")
    return noise


def sign_word_count(k: int, n: int) -> int:
    """uint64 words one step of a block of n paths draws for k signs per path: ceil(k n / 64)."""
    return -(-k * n // 64)


class BlockDraws:
    """The generators of consecutive blocks of one chunk of P paths, and the paths each one owns.

    Block i (``gens[i]``) owns the paths ``slices[i]`` = [i BLOCK, min((i + 1) BLOCK, P)).
    """

    def __init__(self, gens, paths: int):
        self.gens = gens
        self.paths = paths
        self.slices = [slice(i * BLOCK, min((i + 1) * BLOCK, paths)) for i in range(len(gens))]

    def normals(self, z) -> None:
        """Fill z (k, P) with standard normals, block by block, row by row; or z (P,) as one row."""
        rows = z[None] if z.ndim == 1 else z
        for gen, sl in zip(self.gens, self.slices):
            for j in range(rows.shape[0]):
                gen.standard_normal(out=rows[j, sl])

    def sign_words(self, k: int, words) -> None:
        """Fill ``words`` (blocks, ceil(k·BLOCK/64)) uint64 with the sign bits of one step.

        Block i draws exactly ``sign_word_count(k, n_i)`` words (n_i its number of paths); the rest
        of its row is left as it is and never read.
        """
        for i, (gen, sl) in enumerate(zip(self.gens, self.slices)):
            count = sign_word_count(k, sl.stop - sl.start)
            words[i, :count] = gen.bit_generator.random_raw(count)


def signs_from_words(words, slices, z) -> None:
    """z (k, P) = 2 bit − 1 ∈ {−1, +1} from the words of :meth:`BlockDraws.sign_words`."""
    k = z.shape[0]
    bytes_ = words.astype("<u8", copy=False).view(np.uint8)        # little-endian: bit i of a row
    for i, sl in enumerate(slices):
        n = sl.stop - sl.start
        z[:, sl] = np.unpackbits(bytes_[i], count=k * n, bitorder="little").reshape(k, n)
    z *= 2.0
    z -= 1.0


class StepInputs:
    """The random inputs of one step of a scheme for a chunk: z (normals + signs, P).

    The first ``normals`` rows are the scheme's normals (standard normals, or signs ±1 when
    ``noise="rademacher"``), the last ``signs`` rows the signs it asks for itself (e.g. Strang's
    Lévy-area substitute).  All sign rows of a step come from one draw of sign words.

    Parameters
    ----------
    draws : BlockDraws
    normals, signs : rows per path-step (``scheme.normal_count(m)``, ``scheme.sign_count(m)``).
    noise : "gaussian" or "rademacher".
    unpack : unpack(words, slices, z_signs) turning the words into ±1 rows; NumPy's by default
        (the compiled backend passes its numba twin).
    """

    def __init__(self, draws: BlockDraws, normals: int, signs: int, noise: str, unpack=signs_from_words):
        self.draws, self.unpack = draws, unpack
        self.z = np.empty((normals + signs, draws.paths))
        self.signs = signs + (normals if noise == "rademacher" else 0)
        self.words = None
        if self.signs:
            self.words = np.zeros((len(draws.gens), sign_word_count(self.signs, BLOCK)), dtype=np.uint64)

    def draw(self):
        """The next step's z (rows, P) (the same array, refilled)."""
        k = self.z.shape[0]
        if self.signs < k:
            self.draws.normals(self.z[:k - self.signs])
        if self.signs:
            self.draws.sign_words(self.signs, self.words)
            self.unpack(self.words, self.draws.slices, self.z[k - self.signs:])
        return self.z


class CoupledNormals:
    """Standard normals for several step counts driven by one Brownian path per sample.

    On the finest grid (N_fine steps) each step draws k standard normals per path.  A step count N
    dividing N_fine takes r = N_fine / N fine steps per step; its normals are the sum of the r
    fine normals inside it divided by sqrt(r), again N(0, 1), and the Brownian increment of the
    coarse step is exactly the sum of the fine ones.  Iterating yields, after each fine step j,
    the list of (level index, z (k, P)) for the levels whose step ends at j (all levels at j = N_fine).
    A yielded array is only valid until the next iteration.

    Parameters
    ----------
    draws : BlockDraws
    k : normals per path-step.
    levels : step counts, each dividing ``finest``.
    finest : N_fine.
    """

    def __init__(self, draws: BlockDraws, k: int, levels, finest: int):
        self.draws, self.finest = draws, int(finest)
        self.ratios = [self.finest // int(level) for level in levels]
        P = draws.paths
        self.sums = [np.zeros((k, P)) if r > 1 else None for r in self.ratios]
        self.z = np.empty((k, P))

    def __iter__(self):
        for j in range(1, self.finest + 1):
            self.draws.normals(self.z)
            ready = []
            for i, ratio in enumerate(self.ratios):
                if ratio == 1:
                    ready.append((i, self.z))
                    continue
                self.sums[i] += self.z
                if j % ratio == 0:
                    self.sums[i] *= 1.0 / np.sqrt(ratio)
                    ready.append((i, self.sums[i]))
            yield ready
            for i, _ in ready:
                if self.ratios[i] > 1:
                    self.sums[i][:] = 0.0


def stacked_normals(gens, shape) -> np.ndarray:
    """One draw of standard normals of ``shape`` per generator, stacked: (len(gens), *shape)."""
    out = np.empty((len(gens),) + tuple(shape))
    for g, slot in zip(gens, out):
        g.standard_normal(out=slot)
    return out
