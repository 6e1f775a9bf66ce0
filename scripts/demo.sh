#!/usr/bin/env bash
# The README's demo command: installs what is missing, then serves the sample
# project as a room and prints its share links. Ctrl-C stops it.
#
# The sample is copied to out/demo-project first, so edits made in the demo
# never touch the files tracked in git. PORT (default 8787) picks the port.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh

bash scripts/setup.sh
mkdir -p out
if [ ! -d out/demo-project ]; then
  cp -r sample-project out/demo-project
fi
cargo build --release --locked -p room-hub
exec target/release/room-hub \
  --project out/demo-project \
  --port "${PORT:-8787}" \
  --token READONLY \
  --token-file out/demo-tokens.json \
  --room-id demo \
  --pulse 500
