"""Settings shared by every environment; local.py, test.py and production.py only override."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# `scripts/services.sh` writes the URLs of the project-local PostgreSQL and Redis here; variables
# already in the environment (DATABASE_URL, REDIS_URL) win, which is how existing servers are used.
environ.Env.read_env(BASE_DIR / ".local" / "env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-not-secret-river-chief-procuratorate")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "leaflet",
    "rivers",
    "patrols",
    "clues",
    "gis_data",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", engine="django.contrib.gis.db.backends.postgis")}
# dj-database-url style URLs name the plain backend for postgres://; the project needs PostGIS.
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")


def redis_url_with_db(redis_url: str, db: int) -> str:
    """Return the same Redis server with another database number (redis://…/N or unix://…?db=N)."""
    from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

    parts = urlsplit(redis_url)
    if parts.scheme == "unix":  # urlunsplit would drop the empty authority of unix:///path
        query = parse_qs(parts.query)
        query["db"] = [str(db)]
        return f"unix://{parts.path}?{urlencode(query, doseq=True)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


# The cache gets its own database: cache.clear() flushes a whole database, and must never take the
# broker's queued tasks with it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", default=redis_url_with_db(REDIS_URL, 1)),
    }
}


def celery_broker_url(redis_url: str) -> str:
    """Return the Celery spelling of a Redis URL (kombu names unix sockets redis+socket://)."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".local" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".local" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "/"

# GDAL 3.6 is what Debian 12 ships; Django 5.2 warns it is old but works with it.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

REST_FRAMEWORK = {
    # Token first so that an anonymous request gets 401 with WWW-Authenticate, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 500,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "河长+检察长 API",
    "DESCRIPTION": "River reaches, clue routing and the joint river-chief / procuratorate workflow.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status": name each choice set in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ClueStatusEnum": "clues.models.Status",
        "PatrolStatusEnum": "patrols.models.PatrolStatus",
        "PhotoStatusEnum": "patrols.models.PhotoStatus",
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (29.03, 106.65),  # 綦江区 古南街道
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
}

# Domain tolerances (DESIGN §4). Read by rivers/crossing.py and rivers/routing.py.
CROSS_MIN_LENGTH_M = env.float("CROSS_MIN_LENGTH_M", default=100.0)
BOUNDARY_BUFFER_M = env.float("BOUNDARY_BUFFER_M", default=30.0)
SNAP_TOLERANCE_M = env.float("SNAP_TOLERANCE_M", default=200.0)
# Possible duplicates of a new clue: open clues of the same category on the same reach this close.
DUPLICATE_DISTANCE_M = env.float("DUPLICATE_DISTANCE_M", default=300.0)
DUPLICATE_WINDOW_DAYS = env.int("DUPLICATE_WINDOW_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# --- Deadline reminders (clues.notifications, clues.tasks) -------------------------------------
# The lengths of the deadlines themselves are policy rows (clues.DeadlinePolicy), not settings.
# The sweep notifies nobody twice, so running it often costs nothing but catches a deadline early.
CELERY_BEAT_SCHEDULE = {
    "clues-sweep-deadlines": {
        "task": "clues.tasks.sweep_deadlines",
        "schedule": env.int("DEADLINE_SWEEP_EVERY_S", default=3600),
    },
}
# Reminders are e-mailed through Django's mail settings (production.py: EMAIL_HOST, EMAIL_PORT).
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="河长+检察长 <noreply@localhost>")
# --- end of deadline reminders ---------------------------------------------------------------

# Patrols (issue 4). A patrol counts when it lasts and covers at least this much (seen in practice:
# 10–30 min, 1–2 km); track points less accurate or implying a faster speed are kept but not used.
PATROL_MIN_DURATION_S = env.int("PATROL_MIN_DURATION_S", default=10 * 60)
PATROL_MIN_LENGTH_M = env.float("PATROL_MIN_LENGTH_M", default=1000.0)
TRACK_MAX_ACCURACY_M = env.float("TRACK_MAX_ACCURACY_M", default=50.0)
TRACK_MAX_SPEED_MPS = env.float("TRACK_MAX_SPEED_MPS", default=15.0)  # 54 km/h: on foot, by car or boat
TRACK_SIMPLIFY_M = env.float("TRACK_SIMPLIFY_M", default=5.0)
# A reach is covered where it lies within this distance of the track.
COVERAGE_DISTANCE_M = env.float("COVERAGE_DISTANCE_M", default=50.0)
# Finished patrols whose coverage is still missing this long after are queued again (a lost task).
COVERAGE_STALE_AFTER_MIN = env.int("COVERAGE_STALE_AFTER_MIN", default=15)
CELERY_BEAT_SCHEDULE["patrols-requeue-stale-coverage"] = {
    "task": "patrols.tasks.requeue_stale_coverage",
    "schedule": env.int("COVERAGE_SWEEP_EVERY_S", default=600),
}

# --- Patrol plans and compliance (patrols.plans, patrols.compliance) ---------------------------
# Due dates of the year's plan, as MM-DD in the plan's year. Seed 002 §二(三): the work points
# (年度工作要点) are proposed in the first quarter. The focus (年度巡查重点) follows the chief river
# order and steers the year's patrols, so it is due with them by default.
WORK_PLAN_DUE = env("WORK_PLAN_DUE", default="03-31")
FOCUS_PLAN_DUE = env("FOCUS_PLAN_DUE", default="03-31")
# Seed 002 §三(三): 每年应至少开展一次联合巡查.
JOINT_PATROLS_PER_YEAR = env.int("JOINT_PATROLS_PER_YEAR", default=1)
# Days between patrols of a reach, by its chief's level (e.g. "city=60,district=30,town=10,village=7").
PATROL_FREQUENCY_DAYS = env.dict(
    "PATROL_FREQUENCY_DAYS",
    cast={"value": int},
    default={"city": 60, "district": 30, "town": 10, "village": 7},
)
# A patrol patrolled a reach when it covered at least this fraction of the reach's length.
PATROL_COVERED_MIN_FRACTION = env.float("PATROL_COVERED_MIN_FRACTION", default=0.5)
# --- end of patrol plans and compliance ----------------------------------------------------------

# --- Finding photos (patrols.photos, patrols.tasks) ---------------------------------------------
# Uploads above these caps are refused before anything is stored; the pixel cap is checked on the
# header alone (a 20000×20000 PNG of a few hundred bytes asks for 400 million pixels).
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)
# A photo still pending this long after upload is queued again, at most once per this period.
PHOTO_STALE_AFTER_MIN = env.int("PHOTO_STALE_AFTER_MIN", default=10)
# A photo whose processing was started this often without finishing (it kills the worker) is failed.
PHOTO_MAX_ATTEMPTS = env.int("PHOTO_MAX_ATTEMPTS", default=5)
# The Celery queue of photo processing; unset is Celery's default queue (the tests use their own).
PHOTO_TASK_QUEUE = env("PHOTO_TASK_QUEUE", default=None)
CELERY_BEAT_SCHEDULE["patrols-requeue-stale-photos"] = {
    "task": "patrols.tasks.requeue_stale_photos",
    "schedule": env.int("PHOTO_SWEEP_EVERY_S", default=300),
}
# --- end of finding photos -----------------------------------------------------------------------

# --- API input (issue 7: config.api_input) -------------------------------------------------------
# What a request may carry: JSON nested at most this deep and this long (Python's decoder recurses
# per level, so a body nested thousands deep would otherwise end in RecursionError, a 500); lists
# answer at most API_MAX_PAGE_SIZE rows whatever `?limit=` asks for; strict field types come from
# config.api_input.serializers; query strings and paths with control characters are refused.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=10 * 1024 * 1024)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=1000)
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "config.api_input.parsers.BoundedJSONParser",
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "config.api_input.pagination.BoundedLimitOffsetPagination"
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "config.api_input.middleware.RefuseControlCharactersMiddleware",
)
# The GeoJSON `crs` an API geometry may name (clue and finding `location`); it is transformed to WGS84.
API_GEOJSON_SRIDS = env.list("API_GEOJSON_SRIDS", cast=int, default=[4326, 4490, 4545, 3857])
# Registration answers the nearest few possible duplicates, with their total count.
DUPLICATES_SHOWN = env.int("DUPLICATES_SHOWN", default=5)
# --- end of API input ----------------------------------------------------------------------------
