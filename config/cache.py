"""Django's Redis cache, with one redis-py client per connection pool instead of one per operation.

Django's RedisCacheClient builds a new `redis.Redis` for every get and set; redis-py 8 fills ~170
response callbacks into each new client, which made the API throttle's two cache calls cost about
0.5 ms of CPU on every request (issue 7 §8, profiled). A client is only a handle on its pool and is
safe to share, so each pool keeps one.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # connection pool -> its client

    def get_client(self, key=None, *, write=False):  # noqa: ANN001, ANN201 - Django's signature
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):  # noqa: ANN001 - Django's signature
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis(self):  # noqa: ANN201 - a redis.Redis
        """Return the redis-py client writes go through, for what the cache API cannot say in one
        round trip (the API throttle's counters, rivers.authentication)."""
        return self._cache.get_client(write=True)
