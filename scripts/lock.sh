#!/usr/bin/env bash
# Write the locks (requirements/*.txt: every package, transitive ones included, pinned with hashes)
# from what requirements/*.in ask for. Run it (`make lock`) after editing a .in file, and commit both.
# test.in takes base.txt as constraints: the test environment is the run one plus test tools only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh uv
for name in base test tools uv; do
    .local/uv/bin/uv pip compile --quiet --generate-hashes --no-header \
        --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
        "requirements/$name.in" -o "requirements/$name.txt" "$@"
done
echo "==> requirements/*.txt written; commit them with the .in files"
