# Sourced by test.sh: runs the README's demo command on a free port, takes
# a screenshot of a share link once the room is live, and prints the
# gzipped size of the release bundle it built.

run_demo_check() {
  local log out link i
  mkdir -p out/screenshots
  rm -rf out/ci-demo
  log="$(mktemp)"
  out="$(mktemp)"
  DEMO_DIR=out/ci-demo PORT=0 bash scripts/demo.sh > "$out" 2> "$log" &
  DEMO_PID=$!
  trap 'kill "$DEMO_PID" 2>/dev/null || true; stop_testkit 2>/dev/null || true' EXIT
  link=""
  # Building the release page and hub can take minutes on a fresh machine.
  for i in $(seq 1 1800); do
    link="$(sed -n 's/^share link (can edit): //p' "$out" | head -n 1)"
    [ -n "$link" ] && break
    if ! kill -0 "$DEMO_PID" 2>/dev/null; then
      cat "$log" >&2
      echo "the demo command exited before printing its links" >&2
      return 1
    fi
    sleep 0.5
  done
  [ -n "$link" ] || { cat "$log" >&2; echo "the demo printed no link" >&2; return 1; }
  grep -q '^share link (view only): ' "$out" || { echo "the demo printed no view-only link" >&2; return 1; }
  node e2e/screenshot.cjs "$link" out/screenshots/demo.png
  kill "$DEMO_PID" 2>/dev/null || true
  wait "$DEMO_PID" 2>/dev/null || true
  local wasm js worker
  read -r wasm js < <(bundle_sizes dist)
  worker="$(gzip -9 -c dist/sw.js | wc -c)"
  echo "bundle: release wasm ${wasm} bytes gzipped, js ${js} bytes gzipped, total $((wasm + js)) bytes"
  echo "offline shell (sw.js, not in the bundle): ${worker} bytes gzipped"
}

# bundle_sizes DIR: the gzip -9 sizes of a trunk build's wasm and its JS
# glue, "WASM JS" (the bundle the closing notes give is their sum).
bundle_sizes() {
  local wasm
  wasm="$(ls "$1"/*_bg.wasm)"
  echo "$(gzip -9 -c "$wasm" | wc -c) $(gzip -9 -c "${wasm%_bg.wasm}.js" | wc -c)"
}
