# Sourced by the other scripts: puts the project's tools on PATH and sets the
# variables the wasm test runner reads. Safe to source more than once.
repo="${repo:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# Tools installed from npm live under the user's cache, outside the checkout,
# so a fresh clone reuses them and `git clean` does not throw them away.
TOOLS_DIR="${ROOM_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/room-client-tools}"
export TOOLS_DIR
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) PATH="$HOME/.cargo/bin:$PATH" ;;
esac
case ":$PATH:" in
  *":$TOOLS_DIR/npm/node_modules/.bin:"*) ;;
  *) PATH="$TOOLS_DIR/npm/node_modules/.bin:$PATH" ;;
esac
export PATH
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export NODE_PATH="$TOOLS_DIR/npm/node_modules${NODE_PATH:+:$NODE_PATH}"
# WebKitGTK's browser (Debian's webkit2gtk-driver brings it), which
# WebKitWebDriver starts for the WebKit tests.
export WEBKIT_BROWSER="${WEBKIT_BROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}"
