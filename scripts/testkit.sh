# Sourced by test.sh: starts target/debug/room-testkit (a real room-hub
# behind a fault proxy; extra arguments go to room-testkit), exports its
# control URL as ROOM_TESTKIT_URL (the e2e scenarios read it) and writes it
# to out/testkit.json, which the browser tests fetch at run time (the wasm
# test runner serves the package directory beside the test page). The kit stops when its
# stdin closes, so it cannot outlive this shell even if a test hangs.

start_testkit() {
  local dir
  dir="$(mktemp -d)"
  mkfifo "$dir/in"
  target/debug/room-testkit --hub-bin target/debug/room-hub --project "${TESTKIT_PROJECT:-sample-project}" "$@" \
    < "$dir/in" > "$dir/out" &
  TESTKIT_PID=$!
  exec 7> "$dir/in"
  trap stop_testkit EXIT
  local i
  for i in $(seq 1 200); do
    if [ -s "$dir/out" ]; then break; fi
    sleep 0.1
  done
  ROOM_TESTKIT_URL="$(sed -n 's/.*"control":"\([^"]*\)".*/\1/p' "$dir/out" | head -1)"
  if [ -z "$ROOM_TESTKIT_URL" ]; then
    echo "room-testkit did not start" >&2
    return 1
  fi
  export ROOM_TESTKIT_URL
  mkdir -p out
  printf '{"control":"%s"}\n' "$ROOM_TESTKIT_URL" > out/testkit.json
  echo "room-testkit at $ROOM_TESTKIT_URL"
}

# Returns the kit's exit status, so a crash of the kit, or an exit of its
# hub that no test asked for (the kit then exits 1), fails the run.
stop_testkit() {
  rm -f out/testkit.json
  # Closing an fd that is not open is no error. (A redirection on `exec`
  # would apply to the whole shell: `exec 7>&- 2>/dev/null` silenced the
  # test command's stderr for every later stage.)
  exec 7>&-
  local status=0
  if [ -n "${TESTKIT_PID:-}" ]; then
    wait "$TESTKIT_PID" 2>/dev/null || status=$?
    TESTKIT_PID=""
  fi
  if [ "$status" -ne 0 ]; then
    echo "room-testkit exited with status $status: the kit or its hub failed (see above)" >&2
  fi
  return "$status"
}
