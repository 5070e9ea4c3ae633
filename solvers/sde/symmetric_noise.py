"""The exact O(m^3) noise of the Neural Covariance SDE and the PSD-tolerant square root it needs.

SPEC §1 (Li, Nica, Roy 2022, arXiv 2206.02768): the diffusion of dV = b(V) dt + Σ(V)^{1/2} dB is
Σ^{αβ,γδ}(V) = V^{αγ}V^{βδ} + V^{αδ}V^{βγ}.  With V = L Lᵀ and S a symmetric Gaussian matrix
(a GOE increment) with

    S_ii ~ N(0, 2 dt),   S_ij = S_ji ~ N(0, dt)  (i < j),  all independent,

the increment dM = L S Lᵀ has covariance exactly Σ(V) dt:
E[dM^{ab} dM^{cd}] = L_ai L_bj L_ck L_dl E[S_ij S_kl] = (V^{ac}V^{bd} + V^{ad}V^{bc}) dt.
This is SPEC's (L G Lᵀ + (L G Lᵀ)ᵀ)/sqrt(2) with G iid N(0, dt), since S = (G + Gᵀ)/sqrt(2), but
it draws only the m(m+1)/2 normals the symmetric noise needs.  The law of L S Lᵀ does not depend
on which square root L is used (S is orthogonally invariant), so any factor with L Lᵀ = V will do.

The m(m+1)/2-dimensional square root of Σ (O(m^6)) is never formed.
"""
from __future__ import annotations

import numpy as np

#: Relative size of a negative eigenvalue (or pivot) below which it counts as rounding, not as a
#: failed factorisation: such matrices are factorised as PSD without being counted as projected.
PSD_TOLERANCE = 1e-12


def symmetric_noise_count(m: int) -> int:
    """Number of standard normals one path-step of the symmetric noise needs: m(m+1)/2."""
    return m * (m + 1) // 2


def goe_from_normals(z, dt: float):
    """Symmetric Gaussian increments S (..., m, m) from standard normals z (..., m(m+1)/2).

    Order of z: the upper triangle row by row (``np.triu_indices(m)``);
    diagonal entries get variance 2 dt, off-diagonal ones dt.
    """
    z = np.asarray(z, dtype=np.float64)
    k = z.shape[-1]
    m = int(round((np.sqrt(8 * k + 1) - 1) / 2))
    iu, ju = np.triu_indices(m)
    S = np.empty(z.shape[:-1] + (m, m))
    scale = np.where(iu == ju, np.sqrt(2.0 * dt), np.sqrt(dt))
    S[..., iu, ju] = z * scale
    S[..., ju, iu] = S[..., iu, ju]
    return S


def goe_normals_from_brownian(dG, dt: float):
    """Standard normals z (..., m(m+1)/2) such that goe_from_normals(z, dt) = (dG + dGᵀ)/sqrt(2).

    dG (..., m, m) are increments of a matrix Brownian motion with iid N(0, dt) entries; this is how
    a test drives the symmetric-noise schemes and the Lie scheme with the same Brownian path.
    """
    dG = np.asarray(dG, dtype=np.float64)
    m = dG.shape[-1]
    iu, ju = np.triu_indices(m)
    S = (dG + np.swapaxes(dG, -1, -2)) / np.sqrt(2.0)
    scale = np.where(iu == ju, np.sqrt(2.0 * dt), np.sqrt(dt))
    return S[..., iu, ju] / scale


def project_psd(V):
    """Nearest PSD matrices in Frobenius norm: symmetrise, clip negative eigenvalues at 0.

    Parameters
    ----------
    V : (..., m, m) array

    Returns
    -------
    (..., m, m) array, symmetric positive semi-definite.
    """
    V = 0.5 * (V + np.swapaxes(V, -1, -2))
    finite = np.all(np.isfinite(V), axis=(-2, -1))
    out = np.full(V.shape, np.nan)          # a non-finite matrix has no projection: nan (exploded)
    w, Q = np.linalg.eigh(V[finite])
    out[finite] = (Q * np.clip(w, 0.0, None)[..., None, :]) @ np.swapaxes(Q, -1, -2)
    return out


def psd_factor(V):
    """A square root L (L Lᵀ = V) of each symmetric PSD matrix, tolerant of singular V.

    Closed form for m = 1, 2 (Cholesky with zero pivots allowed); LAPACK Cholesky for m ≥ 3 with
    an eigen-decomposition fallback (L = Q diag(sqrt(max(λ, 0)))) when any matrix of the stack is
    not numerically positive definite.

    Parameters
    ----------
    V : (..., m, m) array, symmetric.

    Returns
    -------
    L : (..., m, m) array
    failed : (...) bool array
        True where V had a materially negative eigenvalue (below -PSD_TOLERANCE times its scale);
        for those, L Lᵀ is the projection of V onto the PSD cone (eigenvalue clipping).
    """
    V = np.asarray(V, dtype=np.float64)
    m = V.shape[-1]
    if m == 1:
        v = V[..., 0, 0]
        return np.sqrt(np.clip(V, 0.0, None)), v < 0
    if m == 2:
        return _cholesky_2x2(V)
    try:
        return np.linalg.cholesky(V), np.zeros(V.shape[:-2], dtype=bool)
    except np.linalg.LinAlgError:
        pass
    # Rare path.  Matrices that are clearly positive definite keep their Cholesky factor (so a
    # path's numbers do not depend on its batch); the others get Q diag(sqrt(max(λ, 0))).
    w = np.linalg.eigvalsh(V)
    scale = np.max(np.abs(w), axis=-1)
    definite = w[..., 0] > 1e-8 * scale
    failed = w[..., 0] < -PSD_TOLERANCE * scale
    L = np.zeros(V.shape)
    try:
        L[definite] = np.linalg.cholesky(V[definite])
    except np.linalg.LinAlgError:
        definite = np.zeros_like(definite)
    rest = ~definite
    wr, Q = np.linalg.eigh(0.5 * (V[rest] + np.swapaxes(V[rest], -1, -2)))
    L[rest] = Q * np.sqrt(np.clip(wr, 0.0, None))[..., None, :]
    return L, failed


def _cholesky_2x2(V):
    """Closed-form Cholesky of 2×2 PSD matrices; non-PSD ones are first projected (eigh)."""
    v11, v12, v22 = V[..., 0, 0], V[..., 0, 1], V[..., 1, 1]
    det = v11 * v22 - v12 * v12
    scale = np.maximum(np.abs(v11), np.abs(v22))
    failed = (v11 < 0) | (v22 < 0) | (det < -PSD_TOLERANCE * scale * scale)
    if failed.any():
        V = V.copy()
        V[failed] = project_psd(V[failed])
        v11, v12, v22 = V[..., 0, 0], V[..., 0, 1], V[..., 1, 1]
    L = np.zeros(V.shape)
    l11 = np.sqrt(np.clip(v11, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        l21 = np.where(l11 > 0, v12 / l11, 0.0)
    L[..., 0, 0] = l11
    L[..., 1, 0] = l21
    L[..., 1, 1] = np.sqrt(np.clip(v22 - l21 * l21, 0.0, None))
    return L, failed


def covariance_noise(V, z, dt: float):
    """One exact increment dM = L S Lᵀ of the covariance SDE's noise (SPEC §1).

    Parameters
    ----------
    V : (..., m, m) symmetric PSD
    z : (..., m(m+1)/2) standard normals (upper triangle, row by row)
    dt : step size

    Returns
    -------
    dM : (..., m, m), symmetric, covariance Σ(V) dt
    failed : (...) bool, V was not PSD and was projected before factorising
    """
    L, failed = psd_factor(V)
    S = goe_from_normals(z, dt)
    dM = L @ S @ np.swapaxes(L, -1, -2)
    return 0.5 * (dM + np.swapaxes(dM, -1, -2)), failed
