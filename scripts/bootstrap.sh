#!/usr/bin/env bash
# Install what is missing: Debian packages, then the virtual environment from pinned requirements.
# Usage: scripts/bootstrap.sh base|test   (test adds the test tools and the compose validator)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-base}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# PostGIS for the PostgreSQL major that is installed (or the distribution's default one).
pg_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$pg_major" ]; then postgis_pkg="postgresql-${pg_major}-postgis-3"; else postgis_pkg="postgresql-postgis"; fi

packages=("$postgis_pkg" postgresql-client gdal-bin redis-server python3-venv)
if [ "$profile" = test ]; then packages+=(chromium fonts-noto-cjk); fi
[ -n "${EXTRA_PACKAGES:-}" ] && packages+=($EXTRA_PACKAGES)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# python3-venv only matters for a Debian python; a python built elsewhere ships venv and ensurepip.
if [[ " ${missing[*]} " == *" python3-venv "* ]] && python3 -c "import ensurepip, venv" 2>/dev/null; then
    missing=("${missing[@]/python3-venv/}")
fi
missing=(${missing[@]+"${missing[@]}"})
if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

requirements="requirements/${profile}.txt"
stamp=".venv/.installed-${profile}-$(cat requirements/*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "==> installing Python packages from $requirements"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r "$requirements"
    touch "$stamp"
fi

if [ "$profile" = test ]; then
    # The compose-file validator lives in its own environment: it pins libraries of its own.
    tools_stamp=".local/tools/.installed-$(sha256sum requirements/tools.txt | cut -c1-16)"
    if [ ! -f "$tools_stamp" ]; then
        echo "==> installing the compose validator"
        mkdir -p .local
        [ -x .local/tools/bin/python ] || python3 -m venv .local/tools
        .local/tools/bin/pip install -q -r requirements/tools.txt
        touch "$tools_stamp"
    fi
fi
