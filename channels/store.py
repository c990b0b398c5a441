"""Short-lived keys shared by the channel: seen message SIDs, pending buttons.

With a Redis URL the keys live in Redis, so several server processes agree on
them: `SET NX` makes exactly one process win a message SID. Without one they
live in this process's memory, which is right for a single process only.
"""

import json
import logging
import time
from collections import OrderedDict
from typing import Any, Optional, Tuple

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from channels.log_throttle import LogThrottle

logger = logging.getLogger(__name__)

KEY_PREFIX = "chatcun:whatsapp:"
DEFAULT_MAX_MEMORY_KEYS = 100_000


class MemoryStore:
    """Keys with a time to live, in this process's memory.

    Holds at most `max_keys` keys; past that the oldest are dropped first.
    """

    def __init__(self, max_keys: int = DEFAULT_MAX_MEMORY_KEYS) -> None:
        self._entries: "OrderedDict[str, Tuple[float, str]]" = OrderedDict()
        self._max_keys = max_keys

    async def add(self, key: str, ttl_seconds: int) -> bool:
        """Create `key` unless it exists. Returns True if it was created."""
        if self._live_value(key) is not None:
            return False
        self._write(key, "1", ttl_seconds)
        return True

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Set `key` to `value`, replacing any earlier value."""
        self._write(key, value, ttl_seconds)

    async def get(self, key: str) -> Optional[str]:
        """Return the value of `key`, or None if it is missing or expired."""
        return self._live_value(key)

    async def pop(self, key: str) -> Optional[str]:
        """Remove `key` and return its value, or None if it was not set."""
        value = self._live_value(key)
        self._entries.pop(key, None)
        return value

    async def close(self) -> None:
        """Release nothing: memory needs no cleanup."""

    def _live_value(self, key: str) -> Optional[str]:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            del self._entries[key]
            return None
        return value

    def _write(self, key: str, value: str, ttl_seconds: int) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (time.monotonic() + ttl_seconds, value)
        if len(self._entries) > self._max_keys:
            self._evict()

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)


class RedisStore:
    """Keys with a time to live in Redis, shared by every server process.

    If Redis fails, each call logs the error and falls back to this process's
    memory, so messages keep flowing. Two processes may then both accept a
    retried message SID until Redis is back.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Optional[redis_asyncio.Redis] = None
        self._fallback = MemoryStore()
        self._error_log = LogThrottle(logger, logging.ERROR, interval_seconds=30)

    async def add(self, key: str, ttl_seconds: int) -> bool:
        """Create `key` unless it exists (`SET NX EX`). True if created."""
        try:
            created = await self._redis().set(key, "1", nx=True, ex=ttl_seconds)
        except RedisError as error:
            self._report(error)
            return await self._fallback.add(key, ttl_seconds)
        return bool(created)

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Set `key` to `value`, replacing any earlier value."""
        try:
            await self._redis().set(key, value, ex=ttl_seconds)
        except RedisError as error:
            self._report(error)
            await self._fallback.put(key, value, ttl_seconds)

    async def get(self, key: str) -> Optional[str]:
        """Return the value of `key`, or None if it is missing."""
        try:
            value = await self._redis().get(key)
        except RedisError as error:
            self._report(error)
            return await self._fallback.get(key)
        return value

    async def pop(self, key: str) -> Optional[str]:
        """Remove `key` and return its value, in one transaction."""
        try:
            async with self._redis().pipeline(transaction=True) as pipeline:
                pipeline.get(key)
                pipeline.delete(key)
                value, _ = await pipeline.execute()
        except RedisError as error:
            self._report(error)
            return await self._fallback.pop(key)
        return value

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _redis(self) -> redis_asyncio.Redis:
        # Created on first use so that it binds to the server's event loop.
        if self._client is None:
            self._client = redis_asyncio.from_url(
                self._url, decode_responses=True, socket_timeout=2.0
            )
        return self._client

    def _report(self, error: RedisError) -> None:
        self._error_log.log(
            "Redis request failed, using this process's memory instead: %s", error
        )


def create_store(redis_url: Optional[str]) -> Any:
    """Create a `RedisStore` for a URL, or a `MemoryStore` without one."""
    if redis_url:
        return RedisStore(redis_url)
    return MemoryStore()


class MessageDeduplicator:
    """Remembers message SIDs so that each message is processed once.

    Twilio retries a webhook that failed or timed out with the same
    MessageSid, and the retry may reach another server process.
    """

    def __init__(self, store: Any, ttl_seconds: int = 24 * 3600) -> None:
        self._store = store
        self._ttl = ttl_seconds

    async def first_time(self, message_sid: str) -> bool:
        """Record `message_sid`. Returns False if it was already recorded."""
        return await self._store.add(f"{KEY_PREFIX}sid:{message_sid}", self._ttl)


class JsonSlot:
    """One JSON value per sender with a time to live, read once."""

    def __init__(self, store: Any, name: str, ttl_seconds: int) -> None:
        self._store = store
        self._name = name
        self._ttl = ttl_seconds

    async def put(self, sender_id: str, value: Any) -> None:
        """Store `value` for `sender_id`, replacing the earlier one."""
        await self._store.put(self._key(sender_id), json.dumps(value), self._ttl)

    async def pop(self, sender_id: str) -> Any:
        """Remove and return the value for `sender_id`, or None."""
        raw = await self._store.pop(self._key(sender_id))
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            logger.error("Stored %s value is not valid JSON; ignoring it", self._name)
            return None

    def _key(self, sender_id: str) -> str:
        return f"{KEY_PREFIX}{self._name}:{sender_id}"
