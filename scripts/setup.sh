#!/usr/bin/env bash
# Installs every tool the demo and the tests need, idempotently: each step
# checks the installed version first and does nothing when it already matches.
# Facts behind each step are in docs/TOOLCHAIN.md (versions, flags, why).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$repo/scripts/env.sh"

log() { printf '[setup] %s\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# The wasm-bindgen CLI must equal the crate version in Cargo.lock exactly, so
# read it from the lock file rather than repeating the number here.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$repo/Cargo.lock"
}

TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"
PLAYWRIGHT_VERSION="1.65.1"
# The accessibility checks in the end-to-end scenarios (WCAG 2.1 A and AA).
AXE_VERSION="4.14.1"
# Drives Firefox and WebKit in the end-to-end scenarios over WebDriver
# (e2e/webdriver.cjs). It uses the drivers installed here and downloads none.
SELENIUM_VERSION="4.46.0"
# Firefox's WebDriver server, from crates.io (there is no download step on
# this network).
GECKODRIVER_VERSION="0.37.1"
# The oldest engines the tests accept: Debian's Firefox ESR and WebKitGTK.
FIREFOX_MIN_MAJOR=128
WEBKITGTK_MIN="2.44"

ensure_wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "wasm32-unknown-unknown: present"
  else
    log "wasm32-unknown-unknown: installing"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    local cv dv
    cv="$(chromium --version 2>/dev/null | grep -oE '[0-9]+' | head -1)"
    dv="$(chromedriver --version 2>/dev/null | grep -oE '[0-9]+' | head -1)"
    if [ -n "$cv" ] && [ "$cv" = "$dv" ]; then
      log "chromium $cv + chromedriver $dv: present"
      return
    fi
    log "chromium ($cv) and chromedriver ($dv) disagree: reinstalling"
  else
    log "chromium + chromedriver: installing"
  fi
  apt_install chromium chromium-driver
}

# Firefox ESR from Debian, driven by geckodriver.
ensure_firefox() {
  local major
  major="$(firefox-esr --version 2>/dev/null | grep -oE '[0-9]+' | head -1 || true)"
  if [ -n "$major" ] && [ "$major" -ge "$FIREFOX_MIN_MAJOR" ]; then
    log "firefox-esr $major: present"
  else
    log "firefox-esr: installing (found '${major:-none}', need $FIREFOX_MIN_MAJOR or newer)"
    apt_install firefox-esr
  fi
}

ensure_geckodriver() {
  local have
  have="$(geckodriver --version 2>/dev/null | head -1 | awk '{print $2}' || true)"
  if [ "$have" = "$GECKODRIVER_VERSION" ]; then
    log "geckodriver $have: present"
  else
    log "geckodriver: installing $GECKODRIVER_VERSION from crates.io (found '${have:-none}')"
    cargo install --locked geckodriver --version "$GECKODRIVER_VERSION" --force
  fi
}

# WebKitGTK's WebDriver server and its MiniBrowser (Safari's engine on
# Linux). MiniBrowser needs a display (headless mode hangs the session):
# the tests run it under Xvfb.
ensure_webkit() {
  local have
  have="$(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null | grep -oE '^[0-9]+\.[0-9]+' || true)"
  if [ -x /usr/bin/WebKitWebDriver ] && [ -x "$WEBKIT_BROWSER" ] && command -v xvfb-run >/dev/null &&
    [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$WEBKITGTK_MIN" "$have" | sort -V | head -1)" = "$WEBKITGTK_MIN" ]; then
    log "WebKitGTK $have + WebKitWebDriver + Xvfb: present"
  else
    log "WebKitGTK + WebKitWebDriver + Xvfb: installing (found '${have:-none}', need $WEBKITGTK_MIN or newer)"
    apt_install webkit2gtk-driver xvfb
  fi
}

# Node runs wasm-opt's npm package and the end-to-end scenarios. Machines of
# this kind come with Node 20; a bare Debian gets its own (18 or newer,
# which playwright-core accepts).
ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
  if [ -n "$major" ] && [ "$major" -ge 18 ] && command -v npm >/dev/null; then
    log "node $(node --version) + npm $(npm --version): present"
  else
    log "node + npm: installing from Debian (found node '${major:-none}')"
    apt_install nodejs npm
  fi
}

ensure_wasm_bindgen() {
  local want have
  want="$(wasm_bindgen_version)"
  [ -n "$want" ] || { log "cannot read the wasm-bindgen version from Cargo.lock"; exit 1; }
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" = "$want" ] && command -v wasm-bindgen-test-runner >/dev/null; then
    log "wasm-bindgen-cli $have: present"
  else
    log "wasm-bindgen-cli: installing $want (found '${have:-none}')"
    # Without --locked: the CLI's own lock file asks for a webpki-roots
    # release the registry here does not serve (docs/TOOLCHAIN.md).
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_trunk() {
  local have
  have="$(trunk --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" = "$TRUNK_VERSION" ]; then
    log "trunk $have: present"
  else
    log "trunk: installing $TRUNK_VERSION (found '${have:-none}')"
    # trunk 0.22 needs a newer rustc than this machine's 1.95.
    cargo install --locked trunk --version "$TRUNK_VERSION" --force
  fi
}

# The tools from npm, installed together at their pinned versions, so that
# installing one never drops another from the folder.
npm_install_tools() {
  mkdir -p "$TOOLS_DIR/npm"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/npm" \
    "binaryen@$BINARYEN_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" "axe-core@$AXE_VERSION" \
    "selenium-webdriver@$SELENIUM_VERSION" >/dev/null
}

ensure_wasm_opt() {
  local have
  have="$(wasm-opt --version 2>/dev/null | grep -oE 'version [0-9]+' | awk '{print $2}' || true)"
  if [ "$have" = "$BINARYEN_VERSION" ]; then
    log "wasm-opt $have: present"
  else
    log "wasm-opt: installing binaryen@$BINARYEN_VERSION from npm (found '${have:-none}')"
    npm_install_tools
  fi
}

# ensure_npm_package NAME VERSION [NOTE]
ensure_npm_package() {
  local have
  have="$(node -p "require('$TOOLS_DIR/npm/node_modules/$1/package.json').version" 2>/dev/null || true)"
  if [ "$have" = "$2" ]; then
    log "$1 $have: present"
  else
    log "$1: installing $2 (found '${have:-none}')${3:+; $3}"
    npm_install_tools
  fi
}

ensure_wasm_target
ensure_chromium
ensure_firefox
ensure_webkit
ensure_wasm_bindgen
ensure_trunk
ensure_geckodriver
ensure_node
ensure_wasm_opt
ensure_npm_package playwright-core "$PLAYWRIGHT_VERSION" "it drives Debian's Chromium, it downloads no browser"
ensure_npm_package axe-core "$AXE_VERSION"
ensure_npm_package selenium-webdriver "$SELENIUM_VERSION" "it drives Firefox and WebKit with the drivers installed above"
