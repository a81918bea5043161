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
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": env("CACHE_URL", default=redis_url_with_db(REDIS_URL, 1)),
    }
}


def celery_broker_url(redis_url: str) -> str:
    """Return the Celery spelling of a Redis URL (kombu names unix sockets redis+socket://).

    kombu reads a socket URL's database from `virtual_host`, not `db`: given ?db=2 it silently used
    database 0, so the tests' tasks went to the queue of a `make run` on the same machine.
    """
    from urllib.parse import parse_qs, urlencode, urlsplit

    if redis_url.startswith("unix://"):
        parts = urlsplit(redis_url)
        query = parse_qs(parts.query)
        query["virtual_host"] = query.pop("db", ["0"])
        return f"redis+socket://{parts.path}?{urlencode(query, doseq=True)}"
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
# The joint-meeting figures' running counts (clues.tallies): the deltas the triggers append are folded
# into the tallies this often.
CELERY_BEAT_SCHEDULE["clues-fold-figure-tallies"] = {
    "task": "clues.tasks.fold_figure_tallies",
    "schedule": env.int("FIGURE_TALLY_FOLD_EVERY_S", default=60),
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
COVERAGE_STALE_AFTER_MIN = env.int("COVERAGE_STALE_AFTER_MIN", default=2)
CELERY_BEAT_SCHEDULE["patrols-requeue-stale-coverage"] = {
    "task": "patrols.tasks.requeue_stale_coverage",
    "schedule": env.int("COVERAGE_SWEEP_EVERY_S", default=60),
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
# Districts per page of GET /api/v1/compliance/ unless `?limit=` asks otherwise (at most API_MAX_PAGE_SIZE):
# each district lists every one of its reaches, a hundred or more (issue 10: large lists paged).
COMPLIANCE_PAGE_SIZE = env.int("COMPLIANCE_PAGE_SIZE", default=50)
# --- end of patrol plans and compliance ----------------------------------------------------------

# --- Vector tiles of the network (rivers.tiles, issue 10) ------------------------------------------
# At most this many features in one tile, the most important first (a city-level reach before a village
# one, the longer before the shorter): a dense low-zoom tile stays small and quick.
TILE_MAX_FEATURES = env.int("TILE_MAX_FEATURES", default=1000)
# Features shorter (reaches) or smaller across (water bodies) than this many pixels at the tile's zoom
# are left out of it; districts and routes always show.
TILE_MIN_FEATURE_PX = env.float("TILE_MIN_FEATURE_PX", default=4.0)
# --- end of vector tiles ---------------------------------------------------------------------------

# --- Finding photos (patrols.photos, patrols.tasks) ---------------------------------------------
# Uploads above these caps are refused before anything is stored; the pixel cap is checked on the
# header alone (a 20000×20000 PNG of a few hundred bytes asks for 400 million pixels).
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)
# A photo still pending this long after upload is queued again, at most once per this period.
PHOTO_STALE_AFTER_MIN = env.int("PHOTO_STALE_AFTER_MIN", default=2)
# A photo whose processing was started this often without finishing (it kills the worker) is failed.
PHOTO_MAX_ATTEMPTS = env.int("PHOTO_MAX_ATTEMPTS", default=5)
# The Celery queue of photo processing; unset is Celery's default queue (the tests use their own).
PHOTO_TASK_QUEUE = env("PHOTO_TASK_QUEUE", default=None)
CELERY_BEAT_SCHEDULE["patrols-requeue-stale-photos"] = {
    "task": "patrols.tasks.requeue_stale_photos",
    "schedule": env.int("PHOTO_SWEEP_EVERY_S", default=60),
}
# --- end of finding photos -----------------------------------------------------------------------

# --- Track limits and the web statement timeout (issue 7) ---------------------------------------
# Every web request runs under this statement_timeout (config.database.StatementTimeoutMiddleware); a
# statement it cancels answers 503. Celery workers and management commands (migrate, load_bundle) never
# pass through the middleware and run without it. 0 turns it off.
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=30_000)
# After WhiteNoise (static files need no database), before the session and authentication lookups.
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1, "config.database.StatementTimeoutMiddleware"
)
# Points of one JSON batch from a phone (a minute or so of fixes), of one uploaded GPX file (55 h at one
# fix a second), and of one patrol in all. An upload over a limit is refused whole (400) and nothing kept.
TRACK_MAX_POINTS_PER_BATCH = env.int("TRACK_MAX_POINTS_PER_BATCH", default=5_000)
TRACK_MAX_POINTS_PER_GPX = env.int("TRACK_MAX_POINTS_PER_GPX", default=200_000)
TRACK_MAX_POINTS_PER_PATROL = env.int("TRACK_MAX_POINTS_PER_PATROL", default=250_000)
TRACK_MAX_GPX_BYTES = env.int("TRACK_MAX_GPX_BYTES", default=20 * 1024 * 1024)
# --- end of track limits and the web statement timeout ------------------------------------------

# --- clue history signing (issue 7) --------------------------------------------------------------
# The key that signs each clue event and each clue's history anchor (clues.history). It is kept out
# of the database, so whoever can write the tables cannot sign a rewritten history. Unset: derived
# from SECRET_KEY with a fixed salt (HMAC-SHA256(SECRET_KEY, "clues.history.hmac-key")). Changing it
# (or SECRET_KEY while it is unset) makes every signed event fail verify_history: keep it stable.
HISTORY_HMAC_KEY = env("HISTORY_HMAC_KEY", default="")
# --- end of clue history signing -----------------------------------------------------------------

# --- Service health and the queue's faults (config.health, config.queueing; issue 7) -------------
# /healthz asks the workers for a ping at most once per HEALTH_WORKER_CACHE_S (the answer is cached),
# waiting HEALTH_WORKER_PING_TIMEOUT_S for it. Beat writes a heartbeat on every tick and wakes at
# least every CELERY_BEAT_MAX_LOOP_INTERVAL seconds; older than HEALTH_BEAT_MAX_AGE_S, beat is down.
HEALTH_WORKER_CACHE_S = env.int("HEALTH_WORKER_CACHE_S", default=5)
HEALTH_WORKER_PING_TIMEOUT_S = env.float("HEALTH_WORKER_PING_TIMEOUT_S", default=1.0)
HEALTH_BEAT_MAX_AGE_S = env.float("HEALTH_BEAT_MAX_AGE_S", default=30.0)
CELERY_BEAT_SCHEDULER = "config.celery:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("CELERY_BEAT_MAX_LOOP_INTERVAL", default=5)
# A message that cannot be sent is logged, not raised (config.queueing): bound how long it is tried.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# --- end of service health and the queue's faults ------------------------------------------------

# --- Database roles and connections (issue 7) ---------------------------------------------------
# DATABASE_URL is the application's role, which owns no table (scripts/services.sh, docker-compose.yml);
# migrations and the test database connect as the owner role instead (DATABASE_OWNER_URL, test.py).
# Each gunicorn thread and Celery process keeps its connection across requests rather than opening one
# per request; the health check replaces one the server has closed. docker/gunicorn.conf.py bounds their
# number below PostgreSQL's max_connections.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No JIT compilation on the application's connections, whichever cluster DATABASE_URL names (issue 10): the
# API's statements are short, and PostgreSQL's cost estimate for the visibility rule's sub-selects tripped
# jit_above_cost, so each figures query spent 1.5 s compiling for 17 ms of running. libpq's `options` sends
# it at connection start; options given in DATABASE_URL are kept. (A pooler in transaction mode drops
# startup options: set jit = off on its server instead, as scripts/services.sh and docker-compose.yml do.)
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# --- end of database roles and connections -------------------------------------------------------

# --- Sign-in and access (issue 7) ---------------------------------------------------------------
# django-axes counts failed sign-ins on every door (/login/, /admin/login/, the API token endpoint):
# after AXES_FAILURE_LIMIT failures for one username, or from one IP address, that username or
# address is refused for the cool-off, the right password included. Attempts live in the database.
import datetime  # noqa: E402

INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: by user, and by address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "rivers.authentication.lockout_response"
AXES_VERBOSE = False
# An API token is refused after this many days; the token endpoint then issues a fresh one. Tokens are
# revoked when the password changes or the account is deactivated (rivers.accounts).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rivers.authentication.ExpiringTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
# Throttles (rates per IP for anonymous requests, per user otherwise), counted in Redis by
# rivers.authentication's sliding windows. The soak test registers 50 clues a second as one user, so a
# user's rate allows 100 a second.
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "rivers.authentication.api_exception_handler"  # 429 in both languages
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "rivers.authentication.AnonThrottle",
    "rivers.authentication.UserThrottle",
    "rivers.authentication.ScopeThrottle",
]
API_THROTTLE_RATES = {
    "anon": env("API_THROTTLE_ANON", default="120/min"),
    "user": env("API_THROTTLE_USER", default="100/s"),
    "sign_in": env("API_THROTTLE_SIGN_IN", default="30/min"),  # the token endpoint, per IP
}
# Behind N reverse proxies, the client's address is the N-th from the right of X-Forwarded-For (for
# lockouts and throttles alike); 0 reads REMOTE_ADDR, right when gunicorn faces the clients itself.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# --- end of sign-in and access ---

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

# --- desk shell: basemaps and API docs (issue 9) ------------------------------------------------
# Swagger UI and ReDoc come from drf-spectacular-sidecar, served as static files: /api/v1/docs/ and
# /api/v1/redoc/ work without internet (nothing from a CDN, DESIGN §2).
from frontend.basemaps import leaflet_tiles  # noqa: E402 - pure: no models, no settings

INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS |= {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
# The inbox's item kinds; patrols keep the name their kinds had before (KindEnum).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] |= {
    "TodoKindEnum": "clues.todo.TodoKind",
    "KindEnum": "patrols.models.PatrolKind",
}
# The basemaps the maps offer (frontend.basemaps: tianditu_vec, tianditu_img, amap, amap_img, osm,
# blank), in the layer switcher's order. 天地图 needs TIANDITU_KEY (a 天地图 developer key, "浏览器端"),
# and is left out without one. 高德's tiles are GCJ-02: the pages shift them onto the WGS84 data.
# `blank` draws no tiles (a plain background: offline, or where no online map may be used).
BASEMAPS = env.list("BASEMAPS", default=["tianditu_vec", "tianditu_img", "amap", "amap_img", "osm", "blank"])
TIANDITU_KEY = env.str("TIANDITU_KEY", default="")
# The basemap shown first; empty: the first of BASEMAPS that can be used.
BASEMAP_DEFAULT = env.str("BASEMAP_DEFAULT", default="")
# The admin's map widgets (django-leaflet) offer the same choice, the default first.
LEAFLET_CONFIG["TILES"] = leaflet_tiles(BASEMAPS, TIANDITU_KEY, BASEMAP_DEFAULT)
# 高德's GCJ-02 shift in the admin's widgets too (frontend/src/admin/leaflet-gcj02.js, built).
LEAFLET_CONFIG["PLUGINS"] = {"forms": {"js": ["frontend/build/admin/leaflet-gcj02.js"]}}
# --- end of desk shell ---------------------------------------------------------------------------
