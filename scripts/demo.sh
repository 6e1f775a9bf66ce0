#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds the page with
# trunk (release, wasm-opt -Oz), and serves the sample project as room
# `demo` with a view-only token and a pulse of runtime events. It prints
# both share links; open one in a browser. Ctrl-C stops it.
#
# The sample is copied to $DEMO_DIR/project first (default out/demo), so
# edits made in the demo never touch the files tracked in git; the room id
# and tokens are kept in $DEMO_DIR/tokens.json so links survive restarts.
# PORT picks the port (default 8787; 0 for any free one).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh

bash scripts/setup.sh >&2
demo_dir="${DEMO_DIR:-out/demo}"
mkdir -p "$demo_dir"
if [ ! -d "$demo_dir/project" ]; then
  cp -r sample-project "$demo_dir/project"
fi
trunk build --release --offline >&2
cargo build --release --locked -p room-hub >&2
exec target/release/room-hub \
  --project "$demo_dir/project" \
  --port "${PORT:-8787}" \
  --token READONLY \
  --token-file "$demo_dir/tokens.json" \
  --room-id demo \
  --web dist \
  --pulse 500
