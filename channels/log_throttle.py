"""A log call that repeats at most once per interval, counting what it skips."""

import logging
import time
from typing import Any


class LogThrottle:
    """Logs one record per interval and reports how many were suppressed.

    Used for events that an outside party can repeat at will, such as
    requests with a bad signature, so that they cannot flood the log.
    """

    def __init__(
        self, logger: logging.Logger, level: int, interval_seconds: float = 10.0
    ) -> None:
        self._logger = logger
        self._level = level
        self._interval = interval_seconds
        self._last_logged = float("-inf")
        self._suppressed = 0

    def log(self, message: str, *args: Any) -> None:
        """Log `message % args` unless a record went out within the interval."""
        now = time.monotonic()
        if now - self._last_logged < self._interval:
            self._suppressed += 1
            return

        if self._suppressed:
            message += " (%d similar records suppressed)"
            args = (*args, self._suppressed)
        self._logger.log(self._level, message, *args)
        self._last_logged = now
        self._suppressed = 0
