"""Classifiers that put the building blocks to work on sound (Chapters 4-6).

Every model here is called as ``model(waveforms, lengths)`` with a batch from
:func:`audiomap_lib.data.datasets.make_loader` -- ``waveforms (B, 1, T)`` and
``lengths (B,)`` in samples -- and returns logits ``(B, n_classes)``, so that
:func:`audiomap_lib.training.fit` trains any of them.

* :class:`LogMelFrontEnd` -- waveform to normalised log-mel frames, with the
  number of real frames per clip (Chapter 2 explains the features).

Each model is built for the sample rate of its data (``sr``, e.g. ``loader.sample_rate_hz``)
and reports it as ``sample_rate_hz``; :func:`audiomap_lib.training.fit` refuses a loader at
another rate.
* :class:`RecurrentClassifier` -- a recurrent layer (a GRU, an LSTM or a vanilla RNN) over
  the log-mel frames and a pooling step (``"last"``, ``"mean"``, ``"attention"`` or ``"additive"``) before a
  linear layer (Chapter 4 builds the recurrent cells, Chapter 5 the attention pooling).
* :class:`TransformerClassifier` -- Transformer encoder layers (self-attention over the log-mel
  frames, with sinusoidal positions) and a mean over the real frames before a linear layer
  (Chapter 5 builds the layer).

The raw-waveform CNNs of Chapter 6 live in :mod:`audiomap_lib.cnn`.
"""
from __future__ import annotations

import torch
from torch import nn

from .attention import (
    AttentionPooling,
    TransformerEncoderLayer,
    compute_masked_mean,
    compute_sinusoidal_positions,
    make_length_mask,
)
from .io import check_batch, check_sample_rate
from .spectral import make_mel_transform
from .utils import check_non_negative_int, check_positive_int, check_real

__all__ = [
    "POOLINGS",
    "LogMelFrontEnd",
    "RECURRENT_CELLS",
    "RecurrentClassifier",
    "TRANSFORMER_POSITIONS",
    "TransformerClassifier",
    "compute_frame_lengths",
]

POOLINGS: tuple[str, ...] = ("last", "mean", "attention", "additive")
"""How :class:`RecurrentClassifier` turns a sequence of hidden states into one vector."""
RECURRENT_CELLS: dict[str, type[nn.GRU] | type[nn.LSTM] | type[nn.RNN]] = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
"""The recurrent layers :class:`RecurrentClassifier` can use (``"rnn"``: the vanilla ``tanh`` RNN)."""
TRANSFORMER_POSITIONS: tuple[str, ...] = ("sinusoidal", "none")
"""What :class:`TransformerClassifier` adds to its frames: the sinusoidal encoding, or nothing (no order)."""


def compute_frame_lengths(lengths: torch.Tensor, hop_length: int) -> torch.Tensor:
    """Number of STFT frames (``center=True``) that a clip of ``lengths`` samples gives.

    Returns:
        ``int64`` tensor like ``lengths``: ``lengths // hop_length + 1`` (Chapter 2).
    """
    return torch.div(lengths, hop_length, rounding_mode="floor") + 1


class LogMelFrontEnd(nn.Module):
    """Waveform ``(B, 1, T)`` to normalised log-mel frames ``(B, n_mels, frames)`` (Chapter 2 features).

    Each clip's log-mel spectrogram (natural log of the Slaney mel power, as
    :func:`audiomap_lib.spectral.compute_log_mel_spectrogram`) has its mean over
    its real frames and all bands subtracted (a loudness normalisation: a
    louder recording shifts every log value by the same amount), then a
    ``BatchNorm1d`` over bands learns each band's scale.

    Args:
        sr: the sample rate the waveforms must have, in Hz (required; nothing is resampled
            here). Also readable as ``sample_rate_hz``.
        n_mels: mel bands.
        n_fft: FFT size (samples); 400 = 25 ms at 16 kHz.
        hop_length: hop between frames (samples); 160 = 10 ms at 16 kHz.
        f_min, f_max: band edges of the mel filter bank, in Hz (``f_max=None``: ``sr/2``).
        freq_masks, time_masks: SpecAugment (Park et al., 2019) during training only: this
            many bands of up to ``max_freq_width`` mel bands, and spans of up to
            ``max_time_width`` frames, are set to 0 (the mean) in each clip. 0 = off.
    """

    def __init__(self, sr: int, n_mels: int = 40, n_fft: int = 400, hop_length: int = 160,
                 f_min: float = 20.0, f_max: float | None = None, freq_masks: int = 0, time_masks: int = 0,
                 max_freq_width: int = 6, max_time_width: int = 10) -> None:
        super().__init__()
        self.sr = check_sample_rate(sr, "sr")
        self.n_mels = check_positive_int(n_mels, "n_mels")
        self.hop_length = check_positive_int(hop_length, "hop_length")
        self.n_fft = check_positive_int(n_fft, "n_fft")
        self.mel = make_mel_transform(self.sr, n_fft, hop_length, n_mels, f_min, f_max)  # Chapter 2's settings
        self.norm = nn.BatchNorm1d(self.n_mels)
        self.freq_masks = check_non_negative_int(freq_masks, "freq_masks")
        self.time_masks = check_non_negative_int(time_masks, "time_masks")
        self.max_freq_width = check_positive_int(max_freq_width, "max_freq_width")
        self.max_time_width = check_positive_int(max_time_width, "max_time_width")

    @property
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (``sr``)."""
        return self.sr

    def _mask_spans(self, feats: torch.Tensor, count: int, width: int, dim: int) -> torch.Tensor:
        """Zero ``count`` random spans of up to ``width`` along ``dim`` (1: bands, 2: frames), per clip."""
        b, size = feats.shape[0], feats.shape[dim]
        keep = torch.ones(b, size, dtype=torch.bool, device=feats.device)
        pos = torch.arange(size, device=feats.device)
        for _ in range(count):
            w = torch.randint(0, width + 1, (b, 1), device=feats.device)
            start = (torch.rand(b, 1, device=feats.device) * (size - w + 1)).long()
            keep &= ~((pos >= start) & (pos < start + w))
        return feats * (keep.unsqueeze(2) if dim == 1 else keep.unsqueeze(1))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the features.

        Args:
            waveforms: ``(B, 1, T)`` (or ``(B, T)``) at ``sr``.
            lengths: real samples per clip ``(B,)``; ``None`` means all ``T``.

        Returns:
            ``(features, frame_lengths)``: ``(B, n_mels, frames)`` float and ``(B,)`` int64
            (frames beyond a clip's length are set to 0).
        """
        waveforms, lengths = check_batch(waveforms, lengths, allow_2d=True)
        if waveforms.ndim == 3:
            waveforms = waveforms[:, 0]
        b, t = waveforms.shape
        # Pad with zeros at the end so that the last real frames see zeros, as a padded clip
        # in a batch does: a clip then gets the same features alone or in any batch.
        n_frames = t // self.hop_length + 1
        padded = torch.nn.functional.pad(waveforms, (0, self.n_fft // 2))
        logmel = torch.log(self.mel(padded)[..., :n_frames] + 1e-6)  # (B, n_mels, frames)
        frames = compute_frame_lengths(lengths, self.hop_length).clamp(max=logmel.shape[-1])
        mask = make_length_mask(frames, logmel.shape[-1]).unsqueeze(1)  # (B, 1, frames)
        mean = (logmel * mask).sum((1, 2), keepdim=True) / (frames.view(-1, 1, 1) * self.n_mels)
        feats = self.norm((logmel - mean) * mask) * mask
        if self.training and self.freq_masks:
            feats = self._mask_spans(feats, self.freq_masks, self.max_freq_width, 1)
        if self.training and self.time_masks:
            feats = self._mask_spans(feats, self.time_masks, self.max_time_width, 2)
        return feats, frames



def _resolve_front_end(model: str, front_end: LogMelFrontEnd | None, sr: int | None) -> LogMelFrontEnd:
    """The front end of a classifier: the given one (its rate equal to ``sr`` if both are given), or
    ``LogMelFrontEnd(sr)``; a clear error when neither says the rate."""
    if front_end is None:
        if sr is None:
            raise ValueError(f"{model} needs the sample rate of its data: pass sr= (in Hz, e.g. "
                             "loader.sample_rate_hz) or a front_end=LogMelFrontEnd(sr=...)")
        return LogMelFrontEnd(sr=sr)
    if not isinstance(front_end, LogMelFrontEnd):
        raise TypeError(f"front_end must be a LogMelFrontEnd; got {type(front_end).__name__}")
    if sr is not None and check_sample_rate(sr, "sr") != front_end.sr:
        raise ValueError(f"sr={sr} Hz differs from front_end.sr={front_end.sr} Hz; pass one of them, or equal rates")
    return front_end


class RecurrentClassifier(nn.Module):
    """Log-mel front end, a recurrent layer over time, a pooling step and a linear layer (Chapters 4 and 5).

    Args:
        n_classes: output classes.
        hidden: hidden size of the recurrent layer.
        layers: stacked recurrent layers.
        pooling: ``"last"`` (hidden state at each clip's last real frame),
            ``"mean"`` (average over real frames), ``"attention"`` (weights over
            time from :class:`audiomap_lib.attention.AttentionPooling`, a learned query scored by a
            scaled dot product) or ``"additive"`` (the same pooling with Bahdanau's additive score,
            :func:`audiomap_lib.attention.additive_attention`).
        bidirectional: run a second recurrent layer backwards in time and concatenate.
        dropout: dropout before the linear layer.
        front_end: a :class:`LogMelFrontEnd`; ``None``: ``LogMelFrontEnd(sr)`` (40 bands,
            160-sample hop: 10 ms at 16 kHz).
        sr: the sample rate of the waveforms in Hz (e.g. ``loader.sample_rate_hz``); required
            without ``front_end``, and must equal ``front_end.sr`` with one.
        cell: ``"gru"`` (``torch.nn.GRU``), ``"lstm"`` (``torch.nn.LSTM``) or ``"rnn"``
            (``torch.nn.RNN``, ``tanh``): :data:`RECURRENT_CELLS`.

    Attributes:
        recurrent: the recurrent layer (batch-first), e.g. ``torch.nn.GRU``.
        sample_rate_hz: the rate the model takes, in Hz (its front end's ``sr``).
        last_attention: after a forward pass with ``pooling="attention"`` or ``"additive"``, the weights
            over frames ``(B, frames)`` (zero on padding); else ``None``.
    """

    def __init__(self, n_classes: int = 10, hidden: int = 64, layers: int = 1, pooling: str = "last",
                 bidirectional: bool = False, dropout: float = 0.1,
                 front_end: LogMelFrontEnd | None = None, sr: int | None = None, cell: str = "gru") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}")
        if cell not in RECURRENT_CELLS:
            raise ValueError(f"cell must be one of {tuple(RECURRENT_CELLS)}; got {cell!r}")
        self.front_end = _resolve_front_end("RecurrentClassifier", front_end, sr)
        self.pooling = pooling
        self.cell = cell
        self.recurrent = RECURRENT_CELLS[cell](self.front_end.n_mels, hidden, num_layers=layers, batch_first=True,
                                               bidirectional=bidirectional)
        width = hidden * (2 if bidirectional else 1)
        self.attend = (AttentionPooling(width, score="additive" if pooling == "additive" else "dot")
                       if pooling in ("attention", "additive") else None)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, n_classes))
        self.last_attention: torch.Tensor | None = None

    @property
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (the front end's ``sr``)."""
        return self.front_end.sr

    def encode(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run front end and recurrent layer.

        Returns:
            ``(states, frame_lengths)``: the recurrent layer's outputs ``(B, frames, hidden * directions)``
            (zero beyond each clip's real frames) and ``(B,)`` int64.
        """
        feats, frames = self.front_end(waveforms, lengths)
        return self.encode_features(feats, frames)

    def encode_features(self, feats: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the recurrent layer over given features ``(B, n_mels, frames)`` with ``frames`` real frames each.

        Returns:
            ``(states, frames)`` as :meth:`encode` (padding frames are never read).
        """
        packed = nn.utils.rnn.pack_padded_sequence(feats.transpose(1, 2), frames.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.recurrent(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=feats.shape[-1])
        return states, frames

    def pool(self, states: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Turn ``(B, frames, width)`` states into one ``(B, width)`` vector per clip."""
        mask = make_length_mask(frames, states.shape[1])
        self.last_attention = None
        if self.pooling == "last":
            if self.recurrent.bidirectional:
                h = self.recurrent.hidden_size
                fwd = states[torch.arange(len(frames)), frames - 1, :h]
                return torch.cat([fwd, states[:, 0, h:]], dim=-1)
            return states[torch.arange(len(frames)), frames - 1]
        if self.pooling == "mean":
            return compute_masked_mean(states, frames, dim=1)
        if self.attend is None:  # pragma: no cover - set in __init__ for the attention poolings
            raise RuntimeError(f"pooling={self.pooling!r} needs the AttentionPooling built in __init__")
        pooled, weights = self.attend(states, mask)
        self.last_attention = weights.detach()
        return pooled

    def forward_features(self, feats: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` from front-end features ``(B, n_mels, frames)`` (e.g. with frames shuffled)."""
        states, frames = self.encode_features(feats, frames)
        return self.head(self.pool(states, frames))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` with ``lengths`` ``(B,)`` in samples."""
        return self.forward_features(*self.front_end(waveforms, lengths))


class TransformerClassifier(nn.Module):
    """Log-mel front end, Transformer encoder layers over the frames, a mean over them and a linear layer (Chapter 5).

    Each frame's ``n_mels`` features are projected linearly to ``d_model``; the sinusoidal
    positions of :func:`audiomap_lib.attention.compute_sinusoidal_positions` are added (attention
    alone ignores order); ``n_layers`` :class:`audiomap_lib.attention.TransformerEncoderLayer`\\ s
    follow, in which no frame attends to padding; the outputs are averaged over each clip's real
    frames (:func:`audiomap_lib.attention.compute_masked_mean`) and a linear layer gives the logits.

    Args:
        n_classes: output classes.
        d_model: size of each frame's vector (even, with ``positions="sinusoidal"``).
        n_heads: attention heads per layer (a divisor of ``d_model``).
        n_layers: encoder layers.
        dim_feedforward: width of each layer's feed-forward network.
        dropout: dropout inside the layers (during training) and before the linear layer.
        front_end: a :class:`LogMelFrontEnd`; ``None``: ``LogMelFrontEnd(sr)``.
        sr: the sample rate of the waveforms in Hz; required without ``front_end``, and must
            equal ``front_end.sr`` with one.
        positions: one of :data:`TRANSFORMER_POSITIONS`.
        norm_first: pre-norm layers (``True``, with a final layer norm before the pooling) or
            post-norm layers (``False``, the original Transformer's).

    Attributes:
        layers: the encoder layers (``nn.ModuleList``).
        sample_rate_hz: the rate the model takes, in Hz (its front end's ``sr``).
    """

    def __init__(self, n_classes: int = 10, d_model: int = 32, n_heads: int = 4, n_layers: int = 2,
                 dim_feedforward: int = 64, dropout: float = 0.1, front_end: LogMelFrontEnd | None = None,
                 sr: int | None = None, positions: str = "sinusoidal", norm_first: bool = True) -> None:
        super().__init__()
        n_classes = check_positive_int(n_classes, "n_classes")
        d_model = check_positive_int(d_model, "d_model")
        n_heads = check_positive_int(n_heads, "n_heads")
        if d_model % n_heads:
            raise ValueError(f"n_heads must divide d_model={d_model}; got {n_heads}")
        n_layers = check_positive_int(n_layers, "n_layers")
        dim_feedforward = check_positive_int(dim_feedforward, "dim_feedforward")
        dropout = check_real(dropout, "dropout", 0.0, 1.0, high_open=True)
        if not isinstance(positions, str) or positions not in TRANSFORMER_POSITIONS:
            raise ValueError(f"positions must be one of {TRANSFORMER_POSITIONS}; got {positions!r}")
        if positions == "sinusoidal" and d_model % 2:
            raise ValueError(f"d_model must be even for positions='sinusoidal' (sine and cosine pairs); got {d_model}")
        if not isinstance(norm_first, bool):
            raise ValueError(f"norm_first must be True or False; got {norm_first!r}")
        self.front_end = _resolve_front_end("TransformerClassifier", front_end, sr)
        self.positions = positions
        self.d_model = d_model
        self.input_proj = nn.Linear(self.front_end.n_mels, d_model)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(d_model, n_heads, dim_feedforward, dropout=dropout, norm_first=norm_first)
            for _ in range(n_layers))
        self.final_norm = nn.LayerNorm(d_model) if norm_first else None
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_model, n_classes))

    @property
    def sample_rate_hz(self) -> int:
        """The rate the waveforms must have, in Hz (the front end's ``sr``)."""
        return self.front_end.sr

    def encode_features(self, feats: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the encoder over features ``(B, n_mels, T)`` with ``frames`` ``(B,)`` real frames each.

        Returns:
            ``(states, frames)``: ``(B, T, d_model)`` (what padded frames hold is never read) and ``frames``.

        Raises:
            ValueError: ``feats`` is not ``(B, n_mels, T)``, or ``frames`` not ``(B,)`` in ``1 .. T``.
        """
        if not isinstance(feats, torch.Tensor) or feats.ndim != 3 or feats.shape[1] != self.front_end.n_mels:
            got = tuple(feats.shape) if isinstance(feats, torch.Tensor) else type(feats).__name__
            raise ValueError(f"feats must have shape (B, n_mels={self.front_end.n_mels}, T); got {got}")
        if not isinstance(frames, torch.Tensor) or frames.shape != (feats.shape[0],):
            got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
            raise ValueError(f"frames must have shape (B,) = ({feats.shape[0]},); got {got}")
        mask = make_length_mask(frames, feats.shape[-1])  # (B, T), True on real frames
        x = self.input_proj(feats.transpose(1, 2))  # (B, T, d_model)
        if self.positions == "sinusoidal":
            x = x + compute_sinusoidal_positions(x.shape[1], self.d_model, dtype=x.dtype).to(x.device)
        for layer in self.layers:
            x = layer(x, mask)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, frames

    def encode(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Front end and encoder: ``(states (B, frames, d_model), frame_lengths (B,))``."""
        return self.encode_features(*self.front_end(waveforms, lengths))

    def forward_features(self, feats: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` from front-end features ``(B, n_mels, frames)`` (e.g. with frames shuffled)."""
        states, frames = self.encode_features(feats, frames)
        return self.head(compute_masked_mean(states, frames, dim=1))

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for waveforms ``(B, 1, T)`` with ``lengths`` ``(B,)`` in samples."""
        return self.forward_features(*self.front_end(waveforms, lengths))
