"""How the book executes its notebooks: a fix for a lost reply, per-profile timeouts, clear failures.

A Sphinx extension (listed in ``_config.yml``), so that every ``jupyter-book build`` gets it,
whoever runs it. It does three things.

1. **No more stalls.** Executing a notebook sometimes stopped with the kernel idle and the client
   waiting, and went on only when the cell's timeout ran out (20 minutes in the book build). The
   cause, found on this course's notebooks (see ``tests/test_notebook_execution.py``): nbclient
   polls the shell socket for the cell's ``execute_reply`` through ``zmq.asyncio``; while that poll
   waits, nbclient's own ``OutputWidget`` (created for every ipywidgets ``Output``, which
   ``ipywidgets.interactive`` uses) sends comm messages on the *same* socket through
   ``Session.send``, which uses a blocking shadow of the socket. That send makes libzmq process
   its pending commands, which drains the edge-triggered ``ZMQ_FD`` notification of a reply that
   has already arrived. The asyncio poll is never woken; it returns only at its timeout, when a
   final ``poll(0)`` finds the reply, and execution continues as if nothing happened. Every
   released combination of ipykernel 6/7, jupyter_client 8.6-8.10, nbclient 0.10-0.11 and pyzmq
   25-27 tried here shows it; CPU load makes it likelier. The fix: the async channel's ``get_msg``
   polls in short slices, so a lost wake-up costs at most :data:`POLL_SLICE_S` seconds.
2. **Per-profile timeouts** (``AUDIOMAP_PROFILE``), sized to the longest cell of each profile.
3. **Failures that say where**: a timeout names the cell's index and first line.
"""
from __future__ import annotations

import os
import time
from queue import Empty
from typing import Any

__all__ = [
    "CELL_TIMEOUT_S",
    "POLL_SLICE_S",
    "get_cell_timeout_s",
    "install_kernel_client_fix",
    "install_cell_names_in_errors",
    "setup",
]

POLL_SLICE_S = 0.2
"""Longest wait for a message that has already arrived (seconds)."""

CELL_TIMEOUT_S = {"quick": 600, "standard": 1800, "full": 7200}
"""The longest a single cell may run, per profile (seconds). The longest cells measured on a
2-core machine: about 20 s in ``quick`` and 60-260 s in ``standard`` (Chapters 4-6's training
cells) when the machine is idle; with other jobs on both cores a ``standard`` training cell took
over 1200 s, so the limits leave room for a busy laptop."""


def get_cell_timeout_s(profile: str | None = None) -> int:
    """The per-cell execution timeout of a profile (default: ``AUDIOMAP_PROFILE``, else standard)."""
    name = (profile or os.environ.get("AUDIOMAP_PROFILE") or "standard").strip().lower()
    if name not in CELL_TIMEOUT_S:
        raise ValueError(f"AUDIOMAP_PROFILE must be one of {sorted(CELL_TIMEOUT_S)}; got {name!r}")
    return CELL_TIMEOUT_S[name]


def install_kernel_client_fix(slice_s: float = POLL_SLICE_S) -> None:
    """Make ``AsyncZMQSocketChannel.get_msg`` poll in slices of ``slice_s`` seconds (idempotent).

    A message whose wake-up was lost (see the module docstring) is then picked up by the next
    slice's poll instead of at the end of the whole timeout. ``timeout=None`` still waits forever,
    and a finite timeout still raises :class:`queue.Empty` when nothing came.
    """
    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "_audiomap_sliced", False):
        return

    async def get_msg(self: Any, timeout: float | None = None) -> dict[str, Any]:
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_s if deadline is None else max(0.0, deadline - time.monotonic())
            if await self.socket.poll(int(min(slice_s, left) * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    get_msg._audiomap_sliced = True  # type: ignore[attr-defined]
    get_msg.__doc__ = AsyncZMQSocketChannel.get_msg.__doc__
    AsyncZMQSocketChannel.get_msg = get_msg  # type: ignore[method-assign]


def install_cell_names_in_errors() -> None:
    """Make a cell timeout name the cell (its index and first line) as well as the time (idempotent)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    original = NotebookClient.async_execute_cell
    if getattr(original, "_audiomap_named", False):
        return

    async def async_execute_cell(self: Any, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, cell, cell_index, *args, **kwargs)
        except CellTimeoutError as err:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            path = (self.resources or {}).get("metadata", {}).get("path", "")
            raise CellTimeoutError(
                f"cell [{cell_index}] (first line: {first!r}) of the notebook in {path or 'its folder'} "
                f"ran longer than its timeout of {self._get_timeout(cell)} s "
                f"(AUDIOMAP_PROFILE={os.environ.get('AUDIOMAP_PROFILE', 'standard')}). {err}"
            ) from None

    async_execute_cell._audiomap_named = True  # type: ignore[attr-defined]
    NotebookClient.async_execute_cell = async_execute_cell  # type: ignore[method-assign]


def _set_timeout(app: Any, config: Any) -> None:
    config.nb_execution_timeout = get_cell_timeout_s()


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    install_kernel_client_fix()
    install_cell_names_in_errors()
    app.connect("config-inited", _set_timeout)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
