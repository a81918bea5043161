#!/usr/bin/env bash
# Build the pages' scripts (frontend/build.mjs → frontend/static/frontend/build/, which git ignores).
# npm ci runs only when package-lock.json changed or node_modules is missing; the build only when its
# sources changed (their hash is kept in build.json, and tests/frontend/test_build.py checks it).
set -euo pipefail
cd "$(dirname "$0")/../frontend"

lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "node_modules/.ci-$lock_hash" ]; then
    echo "==> installing the front-end packages (npm ci, from frontend/package-lock.json)"
    rm -rf node_modules
    npm ci --no-audit --no-fund --loglevel=error
    touch "node_modules/.ci-$lock_hash"
fi

sources=$(node --input-type=module -e 'import { sourcesHash } from "./build.mjs"; console.log(sourcesHash())')
built=$(node -e 'try { console.log(require("./static/frontend/build/build.json").sources) } catch { console.log("") }')
if [ "$sources" != "$built" ] || [ ! -f locale/en/LC_MESSAGES/djangojs.mo ] || [ "${1:-}" = "--force" ]; then
    echo "==> building the patrol app (esbuild)"
    node build.mjs
fi
