#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every check
# and every test. CI runs exactly this (.ci/run).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
bash scripts/setup.sh

step "format"
cargo fmt --all --check

step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (wasm32: the crates that run in the browser)"
cargo clippy -p room-protocol -p room-client --all-targets --locked \
  --target wasm32-unknown-unknown -- -D warnings

step "native tests"
cargo test --workspace --locked

step "browser tests: protocol codec in headless Chromium"
cargo test -p room-protocol --locked --target wasm32-unknown-unknown --test frames

step "browser tests: IndexedDB cache"
cargo test -p room-client --locked --target wasm32-unknown-unknown --test browser_cache

step "browser tests: client core against a real hub (room-testkit)"
cargo build --locked -p room-hub -p room-testkit
source scripts/testkit.sh
start_testkit
cargo test -p room-client --locked --target wasm32-unknown-unknown --test browser_core
stop_testkit

step "all checks passed"
