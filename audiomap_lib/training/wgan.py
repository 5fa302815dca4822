"""The WGAN-GP trainer of Chapter 7 (WaveGAN), built from :mod:`audiomap_lib.training.core`.

Iteration-based: one *step* is ``n_critic`` critic updates followed by one generator update.
Real batches are drawn with replacement from clips held in memory, with a seeded generator, and
the latents and the gradient penalty's mixing weights with another; both generators, the global
random states, the two models and the two optimisers are saved in one training state
(:func:`~audiomap_lib.training.core.save_training_state`), so that a run stopped after any
saved step and resumed with :func:`train_wgan_gp` reaches the same weights as a run that never
stopped (``tests/test_gan.py`` checks it).

Logged per step in the :class:`~audiomap_lib.training.core.History`: ``wasserstein`` (the
critic's estimate, ``mean f(real) - mean f(fake)``, on the last critic batch), ``gradient_penalty``,
``critic_loss``, ``generator_loss`` and ``seconds`` (wall-clock seconds of the step).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import torch
from torch import nn

from ..gan.losses import (
    compute_critic_loss,
    compute_generator_loss,
    compute_gradient_penalty,
    compute_wasserstein_estimate,
)
from ..gan.models import make_latents
from ..utils import check_positive_int, check_real, check_tensor
from .core import (
    History,
    is_progress_enabled,
    load_training_state,
    make_progress_bar,
    resolve_device,
    save_training_state,
)

__all__ = ["train_wgan_gp"]


def _check_clips(clips: object, shape: tuple[int, ...]) -> torch.Tensor:
    t = check_tensor(clips, "clips", ndim=len(shape) + 1, shape=f"(N, {', '.join(map(str, shape))})")
    if tuple(t.shape[1:]) != tuple(shape):
        what = f"(N, 1, n_samples={shape[-1]})" if len(shape) == 2 else f"(N, {', '.join(map(str, shape))})"
        raise ValueError(f"clips must have shape {what}, the generator's output; got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("clips hold NaN or infinite samples; clean the data")
    return t.float()


def train_wgan_gp(
    generator: nn.Module,
    critic: nn.Module,
    clips: torch.Tensor,
    *,
    steps: int,
    sample_rate_hz: int | None = None,
    batch_size: int = 64,
    n_critic: int = 5,
    gp_weight: float = 10.0,
    lr: float = 1e-4,
    betas: tuple[float, float] = (0.5, 0.9),
    critic_lr: float | None = None,
    gp_every: int = 1,
    ema_generator: nn.Module | None = None,
    ema_decay: float = 0.999,
    seed: int = 0,
    state_path: str | Path | None = None,
    save_every: int = 100,
    device: torch.device | str | None = None,
    progress: bool | None = None,
    on_step: Callable[[int, History], None] | None = None,
) -> History:
    """Train a generator and a critic with WGAN-GP, as WaveGAN does (Chapter 7).

    Args:
        generator: maps latents ``(B, latent_dim)`` to clips ``(B, 1, n_samples)``; has
            ``latent_dim``, ``n_samples`` and ``sample_rate_hz`` (a
            :class:`~audiomap_lib.gan.models.WaveGANGenerator`).
        critic: maps clips ``(B, 1, n_samples)`` to scores ``(B,)``.
        clips: the real training clips ``(N, 1, n_samples)``, in memory (for a generator with an
            ``output_shape``, such as SpecGAN's, ``(N, *output_shape)``: its images of them).
        steps: the step to train up to (counting the steps of a resumed state).
        sample_rate_hz: the clips' rate in Hz; when given it must be the generator's.
        batch_size: clips per batch (64 in the paper).
        n_critic: critic updates per generator update (5).
        gp_weight: the penalty's ``lambda`` (10).
        lr, betas: Adam's settings for both models (1e-4 and (0.5, 0.9)).
        critic_lr: the critic's own learning rate (``None``: ``lr``); a faster critic with fewer
            critic steps is the two time-scale update rule (TTUR, Heusel et al. 2017).
        gp_every: compute the penalty on every ``gp_every``-th critic update only, weighted by
            ``gp_every`` ("lazy" regularisation, Karras et al. 2020): the double backward it
            needs is the costliest part of a critic step. 1: the paper's, every update.
        ema_generator: a copy of ``generator`` (``copy.deepcopy``) whose weights follow the
            generator's as an exponential moving average, ``ema = decay * ema + (1 - decay) * w``,
            after each generator update; saved and resumed with the rest. ``None``: no average.
        ema_decay: the average's decay per step; at step ``t`` the decay used is
            ``min(ema_decay, (1 + t) / (10 + t))``, so the random initial weights do not linger in
            the average of a short run.
        seed: seeds the data and noise generators of a new run.
        state_path: where to save the training state every ``save_every`` steps and at the end;
            if the file exists the run resumes from it.
        device: where to train (``None``: :func:`audiomap_lib.utils.get_device`).
        progress: draw a progress bar (``None``: ``AUDIOMAP_PROGRESS``).
        on_step: called as ``on_step(step, history)`` after each step (e.g. to plot or play).

    Returns:
        The :class:`~audiomap_lib.training.core.History` of every step so far (of a resumed
        run, too). The models are left on ``device``, in train mode.
    """
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_critic = check_positive_int(n_critic, "n_critic")
    save_every = check_positive_int(save_every, "save_every")
    gp_weight = check_real(gp_weight, "gp_weight", 0.0)
    lr = check_real(lr, "lr", 0.0, low_open=True)
    critic_lr = lr if critic_lr is None else check_real(critic_lr, "critic_lr", 0.0, low_open=True)
    gp_every = check_positive_int(gp_every, "gp_every")
    ema_decay = check_real(ema_decay, "ema_decay", 0.0, 1.0, high_open=True)
    if ema_generator is not None:
        if ema_generator is generator or type(ema_generator) is not type(generator):
            raise ValueError("ema_generator must be a separate copy of the generator (copy.deepcopy(generator))")
        if [p.shape for p in ema_generator.parameters()] != [p.shape for p in generator.parameters()]:
            raise ValueError("ema_generator must have the generator's parameter shapes (copy.deepcopy(generator))")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    betas = (check_real(betas[0], "betas[0]", 0.0, 1.0, high_open=True), check_real(betas[1], "betas[1]", 0.0, 1.0, high_open=True))
    for name in ("latent_dim", "n_samples", "sample_rate_hz"):
        if not hasattr(generator, name):
            raise TypeError(f"generator must have a {name} attribute (a WaveGANGenerator)")
    model_sr = int(cast(int, generator.sample_rate_hz))
    if sample_rate_hz is not None and int(sample_rate_hz) != model_sr:
        raise ValueError(f"the clips are at {sample_rate_hz} Hz but the generator makes {model_sr} Hz: "
                         f"resample the clips (audiomap_lib.io.resample) or build the generator for their rate")
    latent_dim, n_samples = int(cast(int, generator.latent_dim)), int(cast(int, generator.n_samples))
    out_shape = tuple(cast(tuple, getattr(generator, "output_shape", (1, n_samples))))
    real_clips = _check_clips(clips, out_shape)
    if batch_size > len(real_clips):
        raise ValueError(f"batch_size={batch_size} is more than the {len(real_clips)} clips")
    device = resolve_device(device)
    generator.to(device).train()
    critic.to(device).train()
    parts: dict[str, nn.Module] = {"generator": generator, "critic": critic}
    if ema_generator is not None:
        ema_generator.to(device).eval().requires_grad_(False)
        parts["ema_generator"] = ema_generator
    models = nn.ModuleDict(parts)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=critic_lr, betas=betas)
    data_gen = torch.Generator().manual_seed(int(seed))
    noise_gen = torch.Generator().manual_seed(int(seed) + 1)
    generators = {"data": data_gen, "noise": noise_gen}
    history, done = History(), 0
    path = Path(state_path).expanduser() if state_path is not None else None
    if path is not None and path.is_file():
        state = load_training_state(path, models, opt_g, generators=generators)
        opt_d.load_state_dict(state["extra"]["critic_optimizer"])
        done = state["step"]
        history = state["history"] or History()

    def save(step: int) -> None:
        if path is not None:
            save_training_state(path, models, opt_g, step=step, epoch=0, history=history, generators=generators,
                                critic_optimizer=opt_d.state_dict(), batch_size=batch_size, n_critic=n_critic,
                                gp_weight=gp_weight, seed=int(seed), critic_lr=critic_lr, gp_every=gp_every,
                                ema_decay=ema_decay if ema_generator is not None else None)

    last_penalty = float("nan")  # the latest penalty computed, at weight gp_weight
    bar = make_progress_bar(max(0, steps - done), "WGAN-GP", is_progress_enabled(progress), unit="step")
    try:
        for step in range(done + 1, steps + 1):
            start = time.perf_counter()
            for k in range(n_critic):
                idx = torch.randint(0, len(real_clips), (batch_size,), generator=data_gen)
                real = real_clips[idx].to(device)
                with torch.no_grad():
                    fake = generator(make_latents(batch_size, latent_dim, noise_gen, device))
                real_scores, fake_scores = critic(real), critic(fake)
                if ((step - 1) * n_critic + k) % gp_every == 0:
                    penalty = compute_gradient_penalty(critic, real, fake, gp_weight * gp_every, noise_gen)
                    last_penalty = float(penalty.detach()) / gp_every
                else:
                    penalty = torch.zeros((), device=device)
                loss_d = compute_critic_loss(real_scores, fake_scores, penalty)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            for p in critic.parameters():
                p.requires_grad_(False)
            loss_g = compute_generator_loss(critic(generator(make_latents(batch_size, latent_dim, noise_gen, device))))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema_generator is not None:
                decay = min(ema_decay, (1.0 + step) / (10.0 + step))  # warm-up: early steps are not averaged in
                with torch.no_grad():
                    for p_ema, p_now in zip(ema_generator.parameters(), generator.parameters()):
                        p_ema.lerp_(p_now, 1.0 - decay)
                    for b_ema, b_now in zip(ema_generator.buffers(), generator.buffers()):
                        b_ema.copy_(b_now)
            for p in critic.parameters():
                p.requires_grad_(True)
            if not torch.isfinite(loss_d.detach()) or not torch.isfinite(loss_g.detach()):
                raise ValueError(f"the losses became non-finite at step {step} (critic {float(loss_d.detach())}, "
                                 f"generator {float(loss_g.detach())}); lower lr or check the clips")
            history.log(wasserstein=float(compute_wasserstein_estimate(real_scores.detach(), fake_scores.detach())),
                        gradient_penalty=last_penalty, critic_loss=float(loss_d.detach()),
                        generator_loss=float(loss_g.detach()), seconds=time.perf_counter() - start)
            if bar is not None:
                bar.update(1)
            if step % save_every == 0 or step == steps:
                save(step)
            if on_step is not None:
                on_step(step, history)
    finally:
        if bar is not None:
            bar.close()
    return history
