"""Smoke tests proving the PostgreSQL and Redis wiring of the test suite and CI."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.postgres
async def test_postgres_round_trip(postgres_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        table = f"smoke_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"CREATE TEMP TABLE {table} (v text)")
        await conn.execute(f"INSERT INTO {table} VALUES ($1)", "héllo ✓")
        assert await conn.fetchval(f"SELECT v FROM {table}") == "héllo ✓"
    finally:
        await conn.close()


@pytest.mark.redis
async def test_redis_round_trip(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    key = f"convoledger:smoke:{uuid.uuid4().hex}"
    try:
        await client.set(key, "héllo ✓", ex=30)
        assert (await client.get(key)).decode() == "héllo ✓"
    finally:
        await client.delete(key)
        await client.aclose()
