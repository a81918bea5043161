"""Settings for `make test`: the same real PostgreSQL+PostGIS and Redis, faster hashing."""

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, celery_broker_url, env, redis_url_with_db

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Several test runs may share one cluster (e.g. two checkouts); each may name its own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}

# Static files come straight from the apps (no collectstatic step outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The tests' queues and cache live in their own Redis databases, apart from `make run`'s worker.
CELERY_BROKER_URL = celery_broker_url(redis_url_with_db(REDIS_URL, 2))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url_with_db(REDIS_URL, 3)}
}
