"""Scoring generated sound as WaveGAN's paper did (Chapter 7): inception score, Fréchet distance,
nearest-neighbour distances (memorisation) and the class histogram (mode collapse).

Every score takes what a classifier says about clips (softmax probabilities ``(N, K)`` or
embeddings ``(N, E)``), so the same function scores real test clips and generated ones through
the same path: report both, side by side.
"""
from __future__ import annotations

import math

import torch

from ..utils import check_positive_int, check_tensor

__all__ = [
    "compute_class_histogram",
    "compute_frechet_distance",
    "compute_inception_score",
    "compute_nearest_neighbour_distances",
]


def _probabilities(p: object) -> torch.Tensor:
    t = check_tensor(p, "probabilities", ndim=2, shape="(N, n_classes)").double()
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()) or not torch.allclose(t.sum(1), torch.ones(len(t), dtype=t.dtype), atol=1e-4):
        raise ValueError("probabilities must be finite, non-negative rows that sum to 1 (softmax outputs)")
    return t


def compute_inception_score(probabilities: torch.Tensor, splits: int = 1) -> tuple[float, float]:
    """The inception score ``exp(mean_x KL(p(y|x) || p(y)))`` (Salimans et al., 2016), Chapter 7.

    High when each clip is classified confidently *and* the classes are spread evenly: at most
    ``K``, the number of classes (8.01 for SC09's real test clips through the paper's classifier).

    Args:
        probabilities: ``(N, K)`` softmax outputs of a classifier for ``N`` clips.
        splits: score ``splits`` equal parts separately (the paper: 10) and return their mean and
            standard deviation.

    Returns:
        ``(mean, std)`` over the splits (``std`` is 0 for one split).
    """
    p = _probabilities(probabilities)
    splits = check_positive_int(splits, "splits")
    if splits > len(p):
        raise ValueError(f"splits={splits} is more than the {len(p)} clips")
    scores = []
    for part in p.chunk(splits):
        marginal = part.mean(0, keepdim=True)
        kl = (part * (torch.log(part.clamp_min(1e-12)) - torch.log(marginal.clamp_min(1e-12)))).sum(1)
        scores.append(math.exp(float(kl.mean())))
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    return mean, std


def compute_class_histogram(probabilities: torch.Tensor) -> torch.Tensor:
    """How many clips the classifier puts in each class (its arg-max), ``int64`` ``(K,)``.

    A generator that has collapsed onto a few modes puts nearly every clip in one class.
    """
    p = _probabilities(probabilities)
    return torch.bincount(p.argmax(1), minlength=p.shape[1])


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh((m + m.T) / 2)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def compute_frechet_distance(embeddings_a: torch.Tensor, embeddings_b: torch.Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of embeddings (as FID; Chapter 7).

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})``, computed in float64 with
    ``Tr (S_a S_b)^{1/2} = Tr (S_a^{1/2} S_b S_a^{1/2})^{1/2}`` (a symmetric matrix, so an
    eigendecomposition suffices).

    Args:
        embeddings_a, embeddings_b: ``(N_a, E)`` and ``(N_b, E)``, each with at least 2 rows.

    Returns:
        The distance (0 for identical statistics), in squared embedding units.
    """
    a = check_tensor(embeddings_a, "embeddings_a", ndim=2, shape="(N, E)").double()
    b = check_tensor(embeddings_b, "embeddings_b", ndim=2, shape="(N, E)").double()
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"embeddings_a and embeddings_b must have the same size E; got {a.shape[1]} and {b.shape[1]}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each set needs at least 2 embeddings to estimate a covariance")
    for name, t in (("embeddings_a", a), ("embeddings_b", b)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} holds NaN or infinite values")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], a.shape[1]), torch.cov(b.T).reshape(b.shape[1], b.shape[1])
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)
    return float((mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * torch.trace(cross))


def compute_nearest_neighbour_distances(queries: torch.Tensor, references: torch.Tensor | None = None) -> torch.Tensor:
    """Euclidean distance from each query to its nearest reference (the paper's ``|D|``; Chapter 7).

    With ``references=None`` the queries are compared with each other (each one's nearest *other*
    query: ``|D|self``, small when a generator repeats itself); with the training clips' features
    it gives ``|D|train`` (small when it copies them).

    Args:
        queries: ``(N, F)`` feature vectors; references: ``(M, F)`` or ``None``.

    Returns:
        ``float64`` ``(N,)`` distances.
    """
    q = check_tensor(queries, "queries", ndim=2, shape="(N, F)").double()
    if references is None:
        if len(q) < 2:
            raise ValueError("queries needs at least 2 rows to compare them with each other")
        dist = torch.cdist(q, q)
        dist.fill_diagonal_(float("inf"))
    else:
        r = check_tensor(references, "references", ndim=2, shape="(M, F)").double()
        if r.shape[1] != q.shape[1]:
            raise ValueError(f"references must have {q.shape[1]} features like queries; got {r.shape[1]}")
        dist = torch.cdist(q, r)
    return dist.min(1).values
