"""Scoring generated sound as WaveGAN's paper did (Chapter 7): inception score, Fréchet distance,
nearest-neighbour distances (memorisation) and the class histogram (mode collapse).

Every score takes what a classifier says about clips (softmax probabilities ``(N, K)`` or
embeddings ``(N, E)``), so the same function scores real test clips and generated ones through
the same path: report both, side by side. :func:`get_gan_scorer` trains (once, then loads
from the hub) the classifier that scores a corpus's GANs (drums or digits), the Chapter 6 way and at the GAN's own rate
and length; :func:`compute_gan_scores` puts every score of a generator beside the real test
clips' in one dictionary.
"""
from __future__ import annotations

import math
from typing import Any, cast

import torch
from torch import nn

from ..utils import by_profile, check_positive_int, check_real, check_tensor, get_cache_dir, get_profile

__all__ = [
    "CLASS_USED_SHARE",
    "compute_class_histogram",
    "compute_frechet_distance",
    "compute_gan_scores",
    "compute_inception_score",
    "compute_nearest_neighbour_distances",
    "compute_mean_spectrum_db",
    "compute_spectral_features",
    "compute_tone_level_db",
    "GAN_SCORER_TASKS",
    "get_drum_classifier",
    "get_gan_scorer",
]


CLASS_USED_SHARE = 0.05
"""A class counts as used by a generator when it gets at least this share of its clips (Chapter 7)."""


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


GAN_SCORER_TASKS: dict[str, str] = {"drums": "drums", "digits": "digits_gan"}
"""Corpus -> the hub task (:data:`audiomap_lib.hub.CLASSIFIER_TASKS`) of the classifier that scores its GANs."""


def get_gan_scorer(corpus: str, n_samples: int, sample_rate_hz: int, profile: str | None = None,
                   retrain: bool = False, seed: int = 0, source: str = "offline") -> tuple[nn.Module, dict[str, Any]]:
    """The classifier that scores a GAN trained on ``corpus``, trained once the Chapter 6 way (Chapter 7).

    A :class:`~audiomap_lib.cnn.LogMelCNN1d` (the best family of Chapter 6) trained with
    :class:`~audiomap_lib.augment.WaveformAugment` on the corpus's train split, brought to the
    GAN's rate and length with :func:`~audiomap_lib.gan.data.make_gan_clips` (so real and
    generated clips reach it through the same path), chosen on the validation split and saved in
    the hub (:func:`audiomap_lib.hub.save_classifier`, task :data:`GAN_SCORER_TASKS` ``[corpus]``)
    with its test accuracy. Later calls load it, unless it was trained for another rate or
    length, or ``retrain``. For digits this is not Chapter 6's saved classifier, which hears
    16 kHz: band-limited to a GAN's 8 kHz, its accuracy falls (Chapter 6 measures by how much).

    Args:
        corpus: ``"drums"`` or ``"digits"``.
        n_samples: the clips' length (the generator's ``n_samples``).
        sample_rate_hz: their rate in Hz (the generator's ``sample_rate_hz``).
        profile: sizes (``None``: ``AUDIOMAP_PROFILE``); each profile keeps its own file.
        retrain: train even when a matching file exists.
        seed: seeds the training.
        source: where the corpus's clips come from (``"offline"``, or ``"sc09"`` / ``"fsdd"`` for
            digits: :func:`audiomap_lib.data.datasets.get_datasets`); a file saved for another
            source is retrained.

    Returns:
        ``(model, meta)``: the model (eval mode, ``labels`` set) and its metadata, with
        ``test_accuracy`` and ``val_accuracy`` (fractions), ``n_samples``, ``sample_rate`` (Hz),
        ``epochs``, ``train_clips`` and ``source``.

    Raises:
        ValueError: an unknown ``corpus`` or ``source``; a non-positive ``n_samples``; a bad rate.
    """
    from .. import augment, hub
    from ..cnn import LogMelCNN1d
    from ..data.datasets import TensorClips, get_datasets, make_loader
    from ..io import check_sample_rate
    from ..training.classifier import fit, predict
    from ..utils import set_seed
    from .data import make_gan_clips

    if corpus not in GAN_SCORER_TASKS:
        raise ValueError(f"corpus must be one of {tuple(GAN_SCORER_TASKS)}; got {corpus!r}")
    task = GAN_SCORER_TASKS[corpus]
    n_samples = check_positive_int(n_samples, "n_samples")
    sample_rate_hz = check_sample_rate(sample_rate_hz, "sample_rate_hz")
    profile = get_profile() if profile is None else profile
    path = get_cache_dir("models", profile) / hub.CLASSIFIER_TASKS[task][0]
    if path.is_file() and not retrain:
        model, meta = hub.load_classifier(task, path)
        if (int(meta["sample_rate"]) == int(sample_rate_hz) and int(meta.get("n_samples", -1)) == n_samples
                and str(meta.get("source", "offline")) == source):
            return model, meta
    set_seed(seed)
    sets = get_datasets(corpus, source, profile=profile)
    labels = tuple(sets["train"].labels)
    data = {split: make_gan_clips(sets[split], n_samples, sample_rate_hz) for split in ("train", "validation", "test")}
    loaders = {split: make_loader(TensorClips(c, y, sample_rate_hz), 64 if split == "train" else 256, split == "train", seed)
               for split, (c, y, _) in data.items()}
    model = LogMelCNN1d(n_classes=len(labels), channels=by_profile(quick=8, standard=32, full=64, profile=profile),
                        input_sr=sample_rate_hz)
    epochs = by_profile(quick=2, standard=12, full=30, profile=profile)
    aug = augment.WaveformAugment(sr=sample_rate_hz, seed=seed + 1, speed=(0.9, 1.1), shift_ms=20.0,
                                  gain_db=(-6.0, 6.0), snr_db=(10.0, 40.0))
    history = fit(model, loaders["train"], loaders["validation"], epochs=epochs, lr=3e-3, schedule="onecycle",
                  augment=aug, device="cpu", progress=False, verbose=False)
    logits, targets = predict(model, loaders["test"], device="cpu")
    test_acc = float((logits.argmax(1) == targets).float().mean())
    model.labels = labels
    hub.save_classifier(model, labels, task, path, n_samples=n_samples, test_accuracy=test_acc,
                        val_accuracy=float(history.best_val_acc), epochs=history.epochs,
                        train_clips=len(data["train"][0]), profile=profile, seed=seed, corpus=corpus, source=source)
    return hub.load_classifier(task, path)


def get_drum_classifier(n_samples: int, sample_rate_hz: int, profile: str | None = None, retrain: bool = False,
                        seed: int = 0) -> tuple[nn.Module, dict[str, Any]]:
    """The drum classifier that scores generated hits (Chapter 7): :func:`get_gan_scorer` for ``"drums"``.

    Args and returns as :func:`get_gan_scorer`.
    """
    return get_gan_scorer("drums", n_samples, sample_rate_hz, profile=profile, retrain=retrain, seed=seed)


def compute_spectral_features(clips: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
    """Normalised log-mel spectrograms, flattened: the space of the ``|D|`` distances (Chapter 7).

    Each clip's 40-band log-mel spectrogram (Chapter 2's settings, 25 ms frames) is flattened and
    brought to zero mean and unit variance, so a distance compares shapes, not loudness (up to the
    ``1e-6`` floor under the log, which near-silent parts reach).

    Args:
        clips: ``(N, 1, samples)`` float waveforms; sample_rate_hz: their rate in Hz.

    Returns:
        ``float32`` ``(N, 40 * frames)``.
    """
    from ..io import check_sample_rate
    from ..models import LogMelFrontEnd

    x = check_tensor(clips, "clips", ndim=3, shape="(N, 1, samples)").float()
    rate = check_sample_rate(sample_rate_hz, "sample_rate_hz")
    n_fft = max(16, int(0.025 * rate))
    if x.shape[1] != 1 or x.shape[-1] < n_fft:
        raise ValueError(f"clips must have shape (N, 1, samples) with samples >= {n_fft} (one 25 ms frame); "
                         f"got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("clips hold NaN or infinite samples")
    front = LogMelFrontEnd(sr=rate, n_fft=n_fft, hop_length=max(4, int(0.01 * rate))).eval()  # eval: no batch statistics
    with torch.no_grad():
        feats, _ = front(x, torch.full((len(x),), x.shape[-1]))
    flat = feats.flatten(1)
    return (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(1e-6)


def compute_mean_spectrum_db(clips: torch.Tensor, sample_rate_hz: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The clips' average power spectrum in dB, and its frequency axis in Hz (Chapter 7).

    Each clip's mean is removed, the clip is Hann-windowed over its whole length, and the power
    spectra of the clips are averaged (``float64``; ``1e-30`` under the log).

    Args:
        clips: ``(N, 1, samples)`` or ``(N, samples)`` waveforms.
        sample_rate_hz: their rate in Hz.

    Returns:
        ``(freqs_hz, db)``, both ``float64`` of shape ``(samples // 2 + 1,)``.

    Raises:
        ValueError: a bad shape or rate.
    """
    from ..io import check_sample_rate

    x = check_tensor(clips, "clips", shape="(N, 1, samples) or (N, samples)")
    if x.ndim == 3 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 2:
        raise ValueError(f"clips must have shape (N, 1, samples) or (N, samples); got {tuple(clips.shape)}")
    rate = check_sample_rate(sample_rate_hz, "sample_rate_hz")
    x = x.double()
    x = x - x.mean(-1, keepdim=True)
    power = (torch.fft.rfft(x * torch.hann_window(x.shape[-1], dtype=torch.float64)).abs() ** 2).mean(0)
    freqs = torch.arange(len(power), dtype=torch.float64) * rate / x.shape[-1]
    return freqs, 10 * torch.log10(power + 1e-30)


def compute_tone_level_db(clips: torch.Tensor, sample_rate_hz: int, f_hz: float, inner_bins: int = 10,
                          outer_bins: int = 150) -> float:
    """How far a tone at ``f_hz`` stands out of the clips' average spectrum, in dB (Chapter 7).

    On the clips' average spectrum (:func:`compute_mean_spectrum_db`), the level is the largest of the 5 bins nearest ``f_hz`` minus the median
    of the bins from ``inner_bins`` to ``outer_bins`` away on both sides. A checkerboard tone of a
    transposed convolution of stride 4 sits at ``sample_rate_hz / 4``: about 0 dB means no tone.

    Args:
        clips: ``(N, 1, samples)`` or ``(N, samples)`` waveforms.
        sample_rate_hz: their rate in Hz.
        f_hz: the frequency to measure, in ``(0, sample_rate_hz / 2)``, far enough from 0 and the
            Nyquist frequency for ``outer_bins`` bins on each side.
        inner_bins, outer_bins: the neighbourhood, in bins of ``sample_rate_hz / samples`` Hz.

    Returns:
        The level in dB (a float).

    Raises:
        ValueError: a bad shape, rate or neighbourhood, or a neighbourhood that leaves the spectrum.
    """
    freqs, db = compute_mean_spectrum_db(clips, sample_rate_hz)
    rate = int(sample_rate_hz)
    inner, outer = check_positive_int(inner_bins, "inner_bins"), check_positive_int(outer_bins, "outer_bins")
    if outer <= inner:
        raise ValueError(f"outer_bins must be larger than inner_bins={inner}; got {outer}")
    f_hz = check_real(f_hz, "f_hz")
    bin_hz = float(freqs[1] - freqs[0])
    k = round(f_hz / bin_hz)
    if not 0 < f_hz < rate / 2 or k - outer < 0 or k + outer >= len(db):
        raise ValueError(f"f_hz must lie in (0, {rate / 2:g}) Hz with {outer} bins of {bin_hz:g} Hz "
                         f"on both sides inside the spectrum; got {f_hz}")
    around = torch.cat([db[k - outer:k - inner], db[k + inner:k + outer]])
    return float(db[k - 2:k + 3].max() - torch.quantile(around, 0.5))


def compute_gan_scores(classifier: nn.Module, generated: torch.Tensor, real_test: torch.Tensor,
                       real_train: torch.Tensor, splits: int = 1) -> dict[str, Any]:
    """Every score of Chapter 7 for generated clips, beside the real test clips' through the same path.

    Args:
        classifier: a Chapter 6 classifier at the clips' rate (``sample_rate_hz``, ``labels``).
        generated, real_test, real_train: ``(N, 1, samples)`` clips at that rate.
        splits: as :func:`compute_inception_score`.

    Returns:
        ``{"is_generated", "is_real", "is_ratio", "histogram_generated", "histogram_real"
        (class name -> count), "classes_used" (classes that get >= 5 % of the generated clips),
        "fid" (generated vs real test, on the classifier's embeddings), "fid_real_train" (real
        test vs real train: the floor), "d_self", "d_train" (mean nearest-neighbour distances of
        the generated clips, :func:`compute_spectral_features`), "d_self_real", "d_train_real"
        (the same for the real test clips), "tone_generated_db", "tone_real_db" (the level of a
        stride-4 checkerboard tone at a quarter of the rate, :func:`compute_tone_level_db`)}``.
    """
    from ..hub import compute_classifier_outputs

    rate = int(cast(int, classifier.sample_rate_hz))
    names = list(getattr(classifier, "labels", None) or [str(i) for i in range(10)])
    p_gen, e_gen = compute_classifier_outputs(classifier, generated)
    p_real, e_real = compute_classifier_outputs(classifier, real_test)
    _, e_train = compute_classifier_outputs(classifier, real_train)
    is_gen, is_real = compute_inception_score(p_gen, splits)[0], compute_inception_score(p_real, splits)[0]
    hist_gen, hist_real = compute_class_histogram(p_gen), compute_class_histogram(p_real)
    f_gen, f_real, f_train = (compute_spectral_features(c, rate) for c in (generated, real_test, real_train))
    return {
        "is_generated": is_gen, "is_real": is_real, "is_ratio": is_gen / is_real,
        "histogram_generated": {n: int(c) for n, c in zip(names, hist_gen)},
        "histogram_real": {n: int(c) for n, c in zip(names, hist_real)},
        "classes_used": int((hist_gen >= CLASS_USED_SHARE * len(generated)).sum()),
        "fid": compute_frechet_distance(e_gen, e_real), "fid_real_train": compute_frechet_distance(e_real, e_train),
        "d_self": float(compute_nearest_neighbour_distances(f_gen).mean()),
        "d_train": float(compute_nearest_neighbour_distances(f_gen, f_train).mean()),
        "d_self_real": float(compute_nearest_neighbour_distances(f_real).mean()),
        "d_train_real": float(compute_nearest_neighbour_distances(f_real, f_train).mean()),
        "tone_generated_db": compute_tone_level_db(generated, rate, rate / 4),
        "tone_real_db": compute_tone_level_db(real_test, rate, rate / 4),
    }
