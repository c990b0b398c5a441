"""Tests of message deduplication and pending buttons, in memory and Redis.

The Redis tests use the server at 127.0.0.1:6379, database 15, and delete
only the keys they create.
"""

import asyncio
import multiprocessing
import uuid

import pytest
import redis

from channels.buttons import ButtonMemory
from channels.store import (
    KEY_PREFIX,
    MemoryStore,
    MessageDeduplicator,
    RedisStore,
    create_store,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_sids():
    """Yield a list for the SIDs a test uses; deletes their keys afterwards."""
    if not _redis_available():
        pytest.fail(f"Redis is not reachable at {REDIS_URL}")
    sids = []
    yield sids
    client = redis.Redis.from_url(REDIS_URL)
    keys = [f"{KEY_PREFIX}sid:{sid}" for sid in sids]
    keys += [f"{KEY_PREFIX}buttons:{sid}" for sid in sids]
    if keys:
        client.delete(*keys)


def _new_sid() -> str:
    return "SM" + uuid.uuid4().hex


@pytest.mark.asyncio
async def test_memory_dedupe_first_time_only():
    deduplicator = MessageDeduplicator(MemoryStore())
    sid = _new_sid()
    assert await deduplicator.first_time(sid)
    assert not await deduplicator.first_time(sid)
    assert await deduplicator.first_time(_new_sid())


@pytest.mark.asyncio
async def test_memory_dedupe_expires():
    deduplicator = MessageDeduplicator(MemoryStore(), ttl_seconds=0)
    sid = _new_sid()
    assert await deduplicator.first_time(sid)
    assert await deduplicator.first_time(sid)


@pytest.mark.asyncio
async def test_memory_store_bounded():
    store = MemoryStore(max_keys=3)
    for name in "abcd":
        await store.add(name, 60)
    assert await store.get("a") is None
    assert await store.get("d") == "1"


@pytest.mark.asyncio
async def test_memory_dedupe_concurrent_calls():
    deduplicator = MessageDeduplicator(MemoryStore())
    sid = _new_sid()
    results = await asyncio.gather(*(deduplicator.first_time(sid) for _ in range(20)))
    assert results.count(True) == 1


@pytest.mark.asyncio
async def test_redis_dedupe_first_time_only(redis_sids):
    store = create_store(REDIS_URL)
    assert isinstance(store, RedisStore)
    deduplicator = MessageDeduplicator(store)
    sid = _new_sid()
    redis_sids.append(sid)
    try:
        assert await deduplicator.first_time(sid)
        assert not await deduplicator.first_time(sid)
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_redis_dedupe_sets_ttl(redis_sids):
    store = RedisStore(REDIS_URL)
    sid = _new_sid()
    redis_sids.append(sid)
    try:
        await MessageDeduplicator(store, ttl_seconds=120).first_time(sid)
    finally:
        await store.close()
    ttl = redis.Redis.from_url(REDIS_URL).ttl(f"{KEY_PREFIX}sid:{sid}")
    assert 0 < ttl <= 120


def _claim_sids(sids, results) -> None:
    # Runs in a separate process, as a second server process would.
    async def claim():
        store = RedisStore(REDIS_URL)
        deduplicator = MessageDeduplicator(store)
        won = [sid for sid in sids if await deduplicator.first_time(sid)]
        await store.close()
        return won

    results.extend(asyncio.run(claim()))


def test_redis_dedupe_across_processes(redis_sids):
    sids = [_new_sid() for _ in range(200)]
    redis_sids.extend(sids)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        results = manager.list()
        workers = [
            context.Process(target=_claim_sids, args=(sids, results)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        exit_codes = [worker.exitcode for worker in workers]
        claimed = list(results)

    assert exit_codes == [0, 0, 0, 0]
    assert sorted(claimed) == sorted(sids)


@pytest.mark.asyncio
async def test_redis_unreachable_falls_back_to_memory(caplog):
    store = RedisStore("redis://127.0.0.1:1/0")
    deduplicator = MessageDeduplicator(store)
    sid = _new_sid()
    try:
        assert await deduplicator.first_time(sid)
        assert not await deduplicator.first_time(sid)
    finally:
        await store.close()
    assert "Redis request failed" in caplog.text


@pytest.mark.asyncio
async def test_button_memory_read_once_in_memory():
    memory = ButtonMemory(MemoryStore())
    choices = [{"title": "Sí", "payload": "/affirm"}]
    await memory.remember("+529981234567", choices)
    assert await memory.take("+529981234567") == choices
    assert await memory.take("+529981234567") == []


@pytest.mark.asyncio
async def test_button_memory_shared_through_redis(redis_sids):
    sender = "+52998" + uuid.uuid4().hex[:7]
    redis_sids.append(sender)
    writer, reader = RedisStore(REDIS_URL), RedisStore(REDIS_URL)
    choices = [{"title": "No", "payload": "/deny"}]
    try:
        await ButtonMemory(writer).remember(sender, choices)
        assert await ButtonMemory(reader).take(sender) == choices
        assert await ButtonMemory(writer).take(sender) == []
    finally:
        await writer.close()
        await reader.close()
