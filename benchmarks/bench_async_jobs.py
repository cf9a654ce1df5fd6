"""The async no-op job of the async drain; a module of its own, so the workers of the sync
figures import no async class and run no event loop."""

from __future__ import annotations

import rocketjob as rj


class AsyncNoop(rj.Job):
    async def perform(self) -> None:
        pass
