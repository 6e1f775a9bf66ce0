# Sourced by test.sh: the newcomer's path. The app in newcomer/ is exactly
# what the README's Embedding section shows (checked first); it is copied
# to a folder outside the workspace, pointed at this checkout by path, and
# built with the README's instructions only (trunk, the release profile and
# wasm-opt it names, `room-hub --write-shell` as its hook), then served by
# a room-hub of its own and driven in Chromium (e2e/newcomer.cjs). Prints
# its gzipped size beside the demo's (dist/, which the caller has built),
# and fails past 5% more.

# shellcheck source=scripts/demo_check.sh
source scripts/demo_check.sh

run_newcomer_check() {
  local file app project
  for file in Cargo.toml Trunk.toml index.html src/main.rs; do
    node -e '
      const fs = require("fs");
      const [readme, file] = process.argv.slice(1, 3).map((f) => fs.readFileSync(f, "utf8"));
      if (!readme.includes(file)) { console.error(`README.md does not show newcomer/${process.argv[3]} as it is`); process.exit(1); }
    ' README.md "newcomer/$file" "$file"
  done
  app="$(mktemp -d "${TMPDIR:-/tmp}/room-newcomer-XXXXXX")"
  project="$(mktemp -d "${TMPDIR:-/tmp}/room-newcomer-project-XXXXXX")"
  cp -R newcomer/. "$app/"
  cp -R sample-project/. "$project/"
  # The one change: the library from this checkout, by path.
  sed -i "s|^room-client = \"0.1\"$|room-client = { path = \"$repo\" }|" "$app/Cargo.toml"
  grep -q "path = \"$repo\"" "$app/Cargo.toml" || { echo "newcomer/Cargo.toml names no room-client = \"0.1\"" >&2; return 1; }
  cargo build --locked -p room-hub
  # As the README says: room-hub on PATH (here this checkout's), trunk.
  # Its own target folder, kept between runs; offline, as every build here.
  (cd "$app" && PATH="$repo/target/debug:$PATH" CARGO_TARGET_DIR="$repo/target/newcomer" \
    CARGO_NET_OFFLINE=true trunk build --release --offline)
  node e2e/newcomer.cjs "$project" "$app/dist"
  local wasm js size demo
  read -r wasm js < <(bundle_sizes "$app/dist")
  size=$((wasm + js))
  echo "newcomer bundle: ${size} bytes gzipped (wasm + js; the default UI with its styles in the wasm)"
  read -r wasm js < <(bundle_sizes dist)
  demo=$((wasm + js))
  echo "demo bundle: ${demo} bytes gzipped (its styles in a file of their own); newcomer/demo = $(awk "BEGIN { printf \"%.3f\", $size / $demo }")"
  awk "BEGIN { exit !($size <= $demo * 1.05) }" ||
    { echo "the newcomer's app is more than 5% larger than the demo" >&2; return 1; }
  rm -rf "$app" "$project"
}
