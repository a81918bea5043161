#!/usr/bin/env bash
# Install what is missing: Debian packages, then the virtual environments from the locks.
# Usage: scripts/bootstrap.sh base|test|uv
#   base  the run environment .venv, exactly requirements/base.txt (what `make run` starts)
#   test  the same .venv, plus .venv-test: the same pins plus the test tools (requirements/test.txt),
#         and the compose validator in .local/tools
#   uv    only the lock/install tool (.local/uv), for scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-base}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$profile" != uv ]; then
    # PostGIS for the PostgreSQL major that is installed (or the distribution's default one).
    pg_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$pg_major" ]; then postgis_pkg="postgresql-${pg_major}-postgis-3"; else postgis_pkg="postgresql-postgis"; fi

    # Node.js and npm build the pages' scripts (scripts/frontend.sh); gettext compiles their catalogs.
    packages=("$postgis_pkg" postgresql-client gdal-bin redis-server python3-venv nodejs npm gettext)
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
    # Node.js, npm and msgfmt installed another way (nodesource, nvm, a gettext build) need no Debian package.
    kept=()
    for pkg in ${missing[@]+"${missing[@]}"}; do
        [ -n "$pkg" ] || continue  # a package dropped above
        case "$pkg" in
            nodejs) command -v node >/dev/null 2>&1 && continue ;;
            npm) command -v npm >/dev/null 2>&1 && continue ;;
            gettext) command -v msgfmt >/dev/null 2>&1 && continue ;;
        esac
        kept+=("$pkg")
    done
    missing=(${kept[@]+"${kept[@]}"})
    missing=(${missing[@]+"${missing[@]}"})
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# uv, itself installed from a lock with hashes, installs the environments exactly as locked.
uv=.local/uv/bin/uv
uv_stamp=".local/uv/.installed-$(sha256sum requirements/uv.txt | cut -c1-16)"
if [ ! -f "$uv_stamp" ]; then
    echo "==> installing uv (the lock and install tool)"
    mkdir -p .local
    [ -x .local/uv/bin/python ] || python3 -m venv .local/uv
    .local/uv/bin/pip install -q --require-hashes -r requirements/uv.txt
    touch "$uv_stamp"
fi
[ "$profile" = uv ] && exit 0

# Make environment $1 hold exactly the packages of lock $2 (sync removes anything else).
sync_env() {
    local venv=$1 lock=$2 stamp
    stamp="$venv/.synced-$(sha256sum "$lock" | cut -c1-16)"
    [ -f "$stamp" ] && return 0
    echo "==> installing $venv from $lock"
    # An environment made by another tool (an older checkout's `python -m venv`) keeps pip and
    # setuptools through a sync: start it anew so that it holds the lock and nothing else.
    grep -qs '^uv = ' "$venv/pyvenv.cfg" || rm -rf "$venv"
    [ -x "$venv/bin/python" ] || "$uv" venv --quiet --python "$(command -v python3)" "$venv"
    "$uv" pip sync --quiet --require-hashes --python "$venv/bin/python" "$lock"
    rm -f "$venv"/.synced-* "$venv"/.installed-*
    touch "$stamp"
}

sync_env .venv requirements/base.txt
scripts/frontend.sh  # npm ci when the lock changed, esbuild when the sources changed
if [ "$profile" = test ]; then
    sync_env .venv-test requirements/test.txt
    # The compose-file validator lives in its own environment: it pins libraries of its own.
    sync_env .local/tools requirements/tools.txt
fi
