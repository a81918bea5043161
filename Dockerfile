# The one image of docker-compose.yml: web (gunicorn), migrate, Celery worker and beat.

# The pages' scripts (frontend/build.mjs) are built in a stage of their own from the npm lock; only the
# built files and compiled catalogs reach the image, not Node.js nor node_modules.
FROM node:20-bookworm-slim AS frontend
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/build.mjs ./
COPY frontend/src src
COPY frontend/locale locale
RUN node build.mjs

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/var/lib/rivers/media

# GeoDjango loads libgdal and libgeos_c through ctypes. Not gdal-bin: on bookworm it pulls in
# Debian's python3 and numpy beside this image's Python, and nothing here runs ogr2ogr.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgdal32 libgeos-c1v5 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --create-home --uid 10001 rivers

WORKDIR /app
# Requirements first, so a code change does not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

COPY . .
COPY --from=frontend /build/static/frontend/build frontend/static/frontend/build
COPY --from=frontend /build/locale frontend/locale
# Build-time dummies: collectstatic imports the production settings but never opens the database.
# The media directory is created owned by the app user, so a fresh named volume mounted there is too.
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
        DATABASE_URL=postgis://build:build@localhost:5432/build \
        python manage.py collectstatic --noinput \
    && install -d -o rivers -g rivers "$MEDIA_ROOT"

USER rivers
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "config.wsgi", "--config", "docker/gunicorn.conf.py"]
