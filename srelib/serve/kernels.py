"""The kernels of a dashboard server: a bounded number, and none kept for a page nobody has open.

Each page a visitor opens gets a kernel (about 350 MB): one of voila's preheated pool, or a new
one. :class:`DashboardKernels` is the server's kernel manager (voila adds its pool on top):

- **Capped.** At most ``max_kernels`` kernels serve pages at once; the pool comes on top (at
  most ``pool_size`` more). A page over the cap starts no kernel: the server answers that it
  is busy (:class:`srelib.errors.DashboardBusy`, see :mod:`srelib.serve.app`). A page takes
  a preheated kernel only when one is ready, else starts its own (under the cap).
- **Culled.** jupyter_server's culler shuts down a kernel with no page connected
  (``cull_connected`` stays off) once idle for ``cull_idle_timeout`` seconds: the kernel of a
  closed page, or of a page fetched by a script that never connects. Idle time counts from the
  last culler pass that saw a page connected, so a page that reconnects finds its kernel. A kernel waiting in the
  pool is never culled (voila's own rule); one handed to a page counts as idle only from the
  first culler pass after the hand-over, so its page has the whole timeout to connect even
  when the kernel waited in the pool for longer than that.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Integer
from voila.request_info_handler import RequestInfoSocketHandler
from voila.utils import ENV_VARIABLE

from srelib.errors import DashboardBusy
from srelib.serve.server import MAX_KERNELS


def _ready(task: asyncio.Task) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


class DashboardKernels(AsyncMappingKernelManager):
    """Kernels for pages, capped; idle ones of closed pages culled, preheated ones kept."""

    max_kernels = Integer(
        MAX_KERNELS, config=True, help="kernels serving pages at once; voila's preheated pool comes on top"
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._starting: set[str] = set()
        self._for_pool: set[str] = set()  # started for voila's pool (a page's once handed over)
        self._handed_over: set[str] = set()  # pool kernels the culler has seen serving a page

    def _pool_tasks(self) -> list[asyncio.Task]:
        """voila's preheated pool, when it preheats: ``VoilaKernelManager._pools`` maps a notebook
        to tasks, each starting a kernel and giving its id."""
        return [task for pool in getattr(self, "_pools", {}).values() for task in pool]

    def _waiting_in_pool(self) -> set[str]:
        return {task.result()["kernel_id"] for task in self._pool_tasks() if _ready(task)}

    def ready_in_pool(self, notebook: str) -> bool:
        """Whether the next kernel voila's pool would give a page of ``notebook`` is ready. A page
        takes only a ready one: waiting for one still starting, it would be a page whose kernel
        :meth:`serving_pages` counts as the pool's until it has started."""
        pool = getattr(self, "_pools", {}).get(notebook, [])
        return bool(pool) and _ready(pool[0])

    def serving_pages(self) -> int:
        """The kernels serving a page (or starting for one): all of them but the pool's."""
        live = self._starting | set(self._kernels)
        self._for_pool &= live
        pooled = self._for_pool & (self._starting | self._waiting_in_pool())
        return len(live - pooled)

    def full(self) -> bool:
        return self.serving_pages() >= self.max_kernels

    async def start_kernel(self, *, kernel_id: str | None = None, **kwargs: Any) -> str:  # type: ignore[override]
        """Start a kernel for voila's pool (voila marks their environment), or for a page unless
        :meth:`full`; counted from this moment, so that pages arriving together cannot pass the
        cap between the check and the kernel's start."""
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        for_pool = kwargs.get("env", {}).get(ENV_VARIABLE.VOILA_PREHEAT) == "True"
        if not for_pool and self.full():
            raise DashboardBusy(f"{self.serving_pages()} pages have a kernel, the most this server serves at once")
        kernel_id = kernel_id or self.new_kernel_id()
        self._starting.add(kernel_id)
        if for_pool:
            self._for_pool.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting.discard(kernel_id)

    async def cull_kernels(self) -> None:
        """The culler's pass, first restarting the idle time of kernels handed from the pool to a
        page since the last pass (their last activity was their preheating, maybe long ago)."""
        now = datetime.now(UTC)
        handed_over = (self._for_pool & set(self._kernels)) - self._starting - self._waiting_in_pool()
        for kernel_id in handed_over - self._handed_over:
            self._kernels[kernel_id].last_activity = now
        self._handed_over = handed_over
        # A kernel with a page connected is in use, whatever its messages: its idle time starts
        # when its last page leaves (jupyter_server counts only some messages as activity, so a
        # page that listened for seconds could find its kernel culled as it reconnected).
        for kernel_id, kernel in list(self._kernels.items()):
            if self._kernel_connections.get(kernel_id, 0) > 0:
                kernel.last_activity = now
        # voila keeps each handed-over page's request details for /voila/query, which this server
        # does not serve: forget those of kernels that are gone
        for kernel_id in set(RequestInfoSocketHandler._cache) - set(self._kernels):
            RequestInfoSocketHandler._cache.pop(kernel_id, None)
        await super().cull_kernels()
