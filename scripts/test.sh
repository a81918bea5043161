#!/usr/bin/env bash
# Start the local servers, check migrations and lint, then run every test (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.test

scripts/services.sh start
echo "==> checking that models and migrations agree"
.venv-test/bin/python manage.py makemigrations --check --dry-run
echo "==> lint"
.venv-test/bin/ruff check .
echo "==> tests"
exec .venv-test/bin/pytest "$@"
