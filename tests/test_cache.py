"""The Redis cache (config/cache.py) builds one redis-py client per pool, and still works as Django's."""

from django.core.cache import cache

from config.cache import RedisCacheClient


def test_the_cache_keeps_one_client_and_behaves_as_djangos():
    assert isinstance(cache._cache, RedisCacheClient)
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is first
    assert cache._cache.get_client() is first  # one server: reads and writes share its pool
    cache.set("test:cache", {"n": 1}, timeout=30)
    assert cache.get("test:cache") == {"n": 1}
    assert cache.add("test:cache", 2) is False
    cache.set("test:counter", 0)
    assert cache.incr("test:counter") == 1
    assert cache.get_many(["test:cache", "test:missing"]) == {"test:cache": {"n": 1}}
    cache.delete_many(["test:cache", "test:counter"])
    assert cache.get("test:cache") is None
