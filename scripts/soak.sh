#!/usr/bin/env bash
# The fault soak: bash scripts/soak.sh [MINUTES] [SEED]. A real hub behind
# the testkit's fault proxy, three Chromium tabs (two editors, one
# view-only), a seeded schedule of faults and edits; it prints the faults by
# kind, edits made and saved, edits lost, conflict views on files nobody
# else writes and duplicate events (all three must be 0), the longest
# recovery and the seed, and fails on any broken promise.
# A failing seed reruns the same schedule: bash scripts/soak.sh 2 SEED.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh
minutes="${1:-2}"
seed="${2:-$(( (RANDOM << 15) | RANDOM ))}"
trunk build --release --offline
cargo build --locked -p room-hub -p room-testkit
source scripts/testkit.sh
start_testkit --web dist --pulse 500
SOAK_MINUTES="$minutes" SOAK_SEED="$seed" node e2e/soak.cjs
stop_testkit
