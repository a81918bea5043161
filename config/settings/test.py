"""Settings for `make test`: the same real PostgreSQL+PostGIS and Redis, faster hashing."""

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, celery_broker_url, env, redis_url_with_db

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The tests connect as the owner role, which creates the test database (CREATEDB) and migrates it as it
# migrates `make run`'s; the application's role may not. Only the role changes: the server and database stay
# DATABASE_URL's, so a subprocess given the test database's URL (a Celery worker) keeps it. Without
# DATABASE_OWNER_URL (an existing server), or with it set empty, DATABASE_URL's role is used.
if owner_url := env("DATABASE_OWNER_URL", default=""):
    owner = env.db_url_config(owner_url)
    DATABASES["default"].update(USER=owner["USER"], PASSWORD=owner["PASSWORD"])
# Several test runs may share one cluster (e.g. two checkouts); each may name its own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}

# Static files come straight from the apps (no collectstatic step outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The tests' queues and cache live in their own Redis databases, apart from `make run`'s worker.
CELERY_BROKER_URL = celery_broker_url(redis_url_with_db(REDIS_URL, 2))
CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": redis_url_with_db(REDIS_URL, 3)}}

# The browser tests answer OpenStreetMap's tile host (tests/e2e/conftest.py): the desk's maps show it first.
BASEMAP_DEFAULT = env.str("BASEMAP_DEFAULT", default="osm")
