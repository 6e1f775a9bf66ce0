#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every check
# and every test. CI runs exactly this (.ci/run). Screenshots land in
# out/screenshots/ (not committed).
#
#   bash scripts/test.sh            every stage, in order
#   bash scripts/test.sh STAGE...   only these (toolchain first, always):
#                                   lint native browser embed demo newcomer e2e soak
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
source scripts/env.sh

STAGES=(lint native browser embed demo newcomer e2e soak)
step() { printf '\n==> %s\n' "$*"; }
wasm_test() { cargo test --locked --target wasm32-unknown-unknown "$@"; }

stage_lint() {
  step "format: every .rs file of the workspace, each as rustfmt formats it alone"
  # `cargo fmt` reaches only the modules it finds declared plainly, never
  # code inside a macro's invocation; rustfmt on each file reaches them
  # all. (sample-project/ is the demo room's content, not our code.)
  cargo fmt --all --check
  find . \( -path ./target -o -path ./out -o -path ./.git -o -path ./sample-project \
    -o -name node_modules -o -path ./protocol/fuzz/target \) -prune -o -name '*.rs' -print0 |
    xargs -0 rustfmt --check --edition 2021

  step "no import cycle: intent is vocabulary only; state depends on neither session nor intent"
  # Doc links are words, not dependencies: comment lines are left out.
  if grep -nE 'crate::' src/intent.rs | grep -vE '^[0-9]+:\s*//' ||
    grep -rnE 'crate::(session|intent|ui)' src/state | grep -vE '^[^:]+:[0-9]+:\s*//'; then
    echo "an import above brings the intent/state/session cycle back (ARCHITECTURE.md)" >&2
    exit 1
  fi

  step "clippy (native)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "clippy (wasm32: the crates that run in the browser)"
  cargo clippy -p room-protocol -p room-client -p room-app -p room-embed-example -p room-nested-example \
    --all-targets --locked --target wasm32-unknown-unknown -- -D warnings

  step "clippy (wasm32, feature testing: the browser tests and benchmarks)"
  cargo clippy -p room-client --features testing --all-targets --locked \
    --target wasm32-unknown-unknown -- -D warnings

  step "docs without warnings (native and wasm32)"
  RUSTDOCFLAGS="-D warnings" cargo doc -p room-protocol -p room-client --no-deps --locked
  RUSTDOCFLAGS="-D warnings" cargo doc -p room-client --no-deps --locked --target wasm32-unknown-unknown

  step "the docs link the types an app meets (the protocol's are inlined as room_client::protocol)"
  local docs=target/wasm32-unknown-unknown/doc/room_client page type
  for page_type in state/struct.RoomState.html:protocol/struct.RuntimeEvent \
    state/struct.RoomState.html:protocol/struct.PeerInfo state/struct.RoomState.html:protocol/struct.Token \
    state/enum.DraftStatus.html:protocol/struct.FileVersion state/struct.Draft.html:merge/enum.Chunk; do
    page="${page_type%%:*}" type="${page_type#*:}"
    grep -q "href=\"\.\./$type\.html\"" "$docs/$page" ||
      { echo "$docs/$page does not link $type" >&2; exit 1; }
  done

  step "the crates package (cargo package, built from the packaged files; nothing is published)"
  # cargo verifies room-client against room-protocol from a temporary local
  # registry, and never rebuilds a registry crate it built before under the
  # same version: verify in a target of its own, emptied first, so a second
  # run checks today's code.
  rm -rf target/package-verify "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/room-protocol-*
  CARGO_TARGET_DIR=target/package-verify \
    cargo package -p room-protocol -p room-client --locked --allow-dirty

  step "the library crates require versions, never pin one (an app picks its own)"
  cargo metadata --format-version 1 --no-deps --locked | node -e '
    const { packages } = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const pinned = packages.filter((p) => ["room-client", "room-protocol"].includes(p.name))
      .flatMap((p) => p.dependencies.filter((d) => /^[=<]/.test(d.req.trim())).map((d) => `${p.name}: ${d.name} ${d.req}`));
    if (pinned.length) { console.error(`exact or capped requirements in a library: ${pinned.join(", ")}`); process.exit(1); }'

  step "clippy (room-client without its default UI, as an app with its own UI builds it)"
  cargo clippy -p room-client --no-default-features --all-targets --locked -- -D warnings
  cargo clippy -p room-client --no-default-features --all-targets --locked \
    --target wasm32-unknown-unknown -- -D warnings
}

stage_native() {
  step "native tests"
  cargo test --workspace --locked
}

# The browser engines the browser tests and the end-to-end scenarios run
# in: all three by default; ROOM_ENGINES narrows a run (e.g.
# ROOM_ENGINES=chromium). The soak drives Chromium alone (it plays a tab
# offline through Chromium's DevTools protocol).
ENGINES=(${ROOM_ENGINES:-chromium firefox webkit})

# wasm_test_in ENGINE ARGS...: `cargo test` for wasm32 with the wasm test
# runner driving ENGINE. The runner picks its driver from whichever of
# CHROMEDRIVER, GECKODRIVER and SAFARIDRIVER is set (in that order of
# preference: Gecko, Safari, Chrome), and reads the capabilities from the
# file WASM_BINDGEN_TEST_WEBDRIVER_JSON names. WebKitGTK's MiniBrowser needs
# a display: Xvfb gives it one.
wasm_test_in() {
  local engine="$1"
  shift
  case "$engine" in
    chromium) (
      export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$repo/webdriver.json"
      wasm_test "$@"
    ) ;;
    firefox) (
      unset CHROMEDRIVER
      export GECKODRIVER="$(command -v geckodriver)"
      export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$repo/webdriver/firefox.json"
      wasm_test "$@"
    ) ;;
    webkit) (
      unset CHROMEDRIVER
      # The runner asks a Safari-type driver for no capabilities, and
      # WebKitWebDriver then starts MiniBrowser, Debian's WebKitGTK browser.
      export SAFARIDRIVER=/usr/bin/WebKitWebDriver
      xvfb-run -a cargo test --locked --target wasm32-unknown-unknown "$@"
    ) ;;
    *) echo "unknown engine '$engine'; engines: chromium firefox webkit" >&2; return 2 ;;
  esac
}

stage_browser() {
  cargo build --locked -p room-hub -p room-testkit
  source scripts/testkit.sh
  local engine failed=()
  for engine in "${ENGINES[@]}"; do
    step "browser tests in $engine: protocol codec, IndexedDB cache, client core and components against a real hub (room-testkit)"
    # A fresh hub and project per engine: the tests write files and
    # expect the sample project as it ships.
    start_testkit
    { wasm_test_in "$engine" -p room-protocol --test frames &&
      wasm_test_in "$engine" -p room-client --features testing \
        --test browser_cache --test browser_core --test browser_ui; } || failed+=("$engine")
    stop_testkit
  done
  engines_passed browser "${failed[@]}"
}

EMBED_BUILT=""
stage_embed() {
  step "examples build: embed (its own UI) and nested (the room at an app's route)"
  (cd examples/embed && trunk build --offline)
  (cd examples/nested && trunk build --offline)
  EMBED_BUILT=1
}

DEMO_BUILT=""
stage_demo() {
  step "demo: the README's demo command, a screenshot, the bundle size"
  source scripts/demo_check.sh
  run_demo_check
  DEMO_BUILT=1
}

stage_newcomer() {
  step "newcomer: the README's Embedding section as a new app outside the workspace, built, served and driven in Chromium"
  # The demo's size to compare with: built by the demo stage, or here.
  [ -n "$DEMO_BUILT" ] || trunk build --release --offline
  source scripts/newcomer.sh
  run_newcomer_check
}

# A newer build of the page, for the new-version scenario: the same app with
# one more CSS rule, built by trunk and its hook as any rebuild is.
build_next_page() {
  local dir="$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  sed -e 's|href="app/Cargo.toml"|href="../../app/Cargo.toml"|' \
    -e 's|href="src/|href="../../src/|' index.html > "$dir/index.html"
  { cat style.css; printf '\n/* The next build: one more rule. */\n.room { --next-build: 1; }\n'; } > "$dir/style.css"
  trunk build --release --offline --dist "$dir/dist" "$dir/index.html"
}

stage_e2e() {
  step "end to end: the promises in each engine, through the fault proxy"
  # Run without the demo stage, the page must be built here.
  [ -n "$DEMO_BUILT" ] || trunk build --release --offline
  [ -n "$EMBED_BUILT" ] || (cd examples/embed && trunk build --offline)
  build_next_page target/next-page
  cargo build --locked -p room-hub -p room-testkit
  source scripts/testkit.sh
  local engine failed=()
  for engine in "${ENGINES[@]}"; do
    step "end to end in $engine"
    # A fresh hub and project per engine, as for the browser tests.
    start_testkit --web dist --next-web target/next-page/dist --embed-web examples/embed/dist --pulse 1000
    # E2E_ONLY=<pattern> runs only the scenarios whose names match.
    e2e_in "$engine" node --test --test-concurrency=1 \
      ${E2E_ONLY:+--test-name-pattern="$E2E_ONLY"} e2e/ || failed+=("$engine")
    stop_testkit
  done
  engines_passed e2e "${failed[@]}"
}

# engines_passed STAGE FAILED...: every engine has run; fail naming those
# that did not pass.
engines_passed() {
  local stage="$1"
  shift
  [ "$#" -eq 0 ] || { echo "$stage failed in: $*" >&2; return 1; }
}

# e2e_in ENGINE COMMAND...: COMMAND with E2E_ENGINE set (e2e/browser.cjs);
# WebKitGTK's MiniBrowser gets a display from Xvfb.
e2e_in() {
  local engine="$1"
  shift
  case "$engine" in
    webkit) E2E_ENGINE="$engine" xvfb-run -a "$@" ;;
    *) E2E_ENGINE="$engine" "$@" ;;
  esac
}

# Two minutes of mixed faults with a fixed seed (scripts/soak.sh): the same
# schedule every run, so a failure here reproduces with the same command.
# Seed 210's first two minutes run every kind of fault (`node e2e/soak.cjs
# --plan 2 210` prints them): schemaUpgrade(a) hubKill refuse reload(v)
# blackhole reopen(v) reset reset refuse folderWrite newGeneration
# reload(a) offline(b) wifiDrop reopen(a) delay.
SOAK_CI_SEED=210
stage_soak() {
  step "fault soak: 2 minutes, seed $SOAK_CI_SEED"
  bash scripts/soak.sh 2 "$SOAK_CI_SEED"
}

chosen=("$@")
[ ${#chosen[@]} -gt 0 ] || chosen=("${STAGES[@]}")
for stage in "${chosen[@]}"; do
  case " ${STAGES[*]} " in
    *" $stage "*) ;;
    *) echo "unknown stage '$stage'; stages: ${STAGES[*]}" >&2; exit 2 ;;
  esac
done

step "toolchain"
bash scripts/setup.sh
for stage in "${chosen[@]}"; do
  "stage_$stage"
done

step "all checks passed: ${chosen[*]}"
