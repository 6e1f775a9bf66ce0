#!/usr/bin/env bash
# Fuzzes the protocol crate's frame decoding and path parsing for a bounded
# time (FUZZ_SECONDS per target, default 60). Not part of CI: it needs the
# nightly toolchain and cargo-fuzz, which it installs if missing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo/protocol"
# shellcheck source=scripts/env.sh
source "$repo/scripts/env.sh"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seconds="${FUZZ_SECONDS:-60}"
for target in decode_frames parse_paths; do
  echo "==> fuzz $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=65536 2>&1 \
    | grep -E "^(#[0-9]+.*(DONE|pulse)|Done|==[0-9]+==|SUMMARY|artifact)" | tail -5
done
