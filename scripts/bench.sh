#!/usr/bin/env bash
# The benchmark command (not part of CI): figures measured in one run.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh
bash scripts/setup.sh

echo "==> IndexedDB cache (release build, headless Chromium)"
cargo test --release --locked -p room-client --target wasm32-unknown-unknown --test cache_bench -- --nocapture 2>&1 \
  | grep -E "^ {0,2}(cache|files|open|load|persist|naive|batched)" || true
