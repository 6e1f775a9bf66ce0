#!/usr/bin/env bash
# Trunk post_build hook (Trunk.toml): writes the offline shell into the
# build. In the staging folder trunk has just filled, it
# - computes BUILD, an id of this build: a hash of every file's name and
#   bytes and of the worker's source;
# - writes sw.js: `BUILD` and `SHELL` (every file but the page and the
#   worker, under trunk's public URL), then app/shell/sw.js;
# - puts BUILD and the worker's URL into the page (index.html's shell
#   script), replacing __ROOM_SHELL_BUILD__ and __ROOM_SHELL_WORKER__.
set -euo pipefail

staging="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
public="${TRUNK_PUBLIC_URL:-/}"
case "$public" in */) ;; *) public="$public/" ;; esac
worker_source="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sw.js"

cd "$staging"
[ -f index.html ] || { echo "shell: no index.html in $staging" >&2; exit 1; }
grep -q __ROOM_SHELL_BUILD__ index.html || { echo "shell: index.html has no __ROOM_SHELL_BUILD__" >&2; exit 1; }
files="$(find . -type f ! -name index.html ! -name sw.js -printf '%P\n' | LC_ALL=C sort)"
build="$( { printf '%s\n' "$files" | while IFS= read -r f; do [ -n "$f" ] && sha256sum "$f"; done
           sha256sum index.html; cat "$worker_source"; } | sha256sum | cut -c1-16)"

{
  printf '// Written by app/shell/build.sh for this build.\n'
  printf "const BUILD = '%s';\n" "$build"
  printf 'const SHELL = [\n'
  printf '%s\n' "$files" | while IFS= read -r f; do [ -n "$f" ] && printf "  '%s%s',\n" "$public" "$f"; done
  printf '];\n\n'
  cat "$worker_source"
} > sw.js
sed -i -e "s|__ROOM_SHELL_BUILD__|$build|g" -e "s|__ROOM_SHELL_WORKER__|${public}sw.js|g" index.html
echo "shell: build $build, $(printf '%s\n' "$files" | grep -c .) files precached"
