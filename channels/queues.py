"""Background jobs run one at a time per key, in the order they came.

The webhook acknowledges Twilio at once and hands the turn to a queue keyed
by the sender, and the output channel queues messages by recipient. Jobs
with different keys run concurrently. Jobs with one key run in the order
they were submitted in this process.
"""

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable, Deque, Dict, Set

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class KeyedQueues:
    """A FIFO queue of jobs per key (a sender or recipient), one task each.

    A key's task exists only while that key has pending jobs, so idle
    citizens cost nothing.
    """

    def __init__(self) -> None:
        self._queues: Dict[str, Deque[Job]] = {}
        self._tasks: Set["asyncio.Task[None]"] = set()

    def submit(self, key: str, job: Job) -> None:
        """Queue `job` after the key's pending jobs, starting it if none."""
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            return

        self._queues[key] = deque([job])
        task = asyncio.get_running_loop().create_task(self._drain(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending_keys(self) -> int:
        """Number of keys with jobs queued or running."""
        return len(self._queues)

    async def wait_idle(self, timeout_seconds: float) -> bool:
        """Wait until every queued job has finished, or until the timeout.

        Returns:
            True if all jobs finished, False if some were still running.
        """
        deadline = asyncio.get_running_loop().time() + timeout_seconds
        while self._tasks:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    async def cancel_all(self) -> None:
        """Cancel the running jobs and drop the queued ones."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job = queue[0]
                try:
                    await job()
                except Exception:
                    # The job reports its own failures; this keeps the queue
                    # alive if one escapes.
                    logger.exception("Unhandled error in a background job")
                queue.popleft()
        finally:
            del self._queues[key]
