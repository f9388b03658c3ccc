#!/usr/bin/env bash
# Test infrastructure only — NOT part of the product.
#
# Manages a throwaway FerretDB (MongoDB wire protocol) for integration tests and benchmarks.
#
#   run.sh build          build bin/ferretdb-test (skipped when newer than the sources;
#                         FERRETDB_BUILD_VERBOSE=1 lists each package as it compiles)
#   run.sh start [PORT]   build if needed, start on 127.0.0.1:PORT (default 27018; if the default
#                         is taken a free port is picked; PORT 0 = always pick a free port),
#                         wait until ready, print MONGODB_URI=mongodb://127.0.0.1:PORT/ as last line
#   run.sh stop           stop it and remove its data (directory or PostgreSQL database)
#   run.sh status         print MONGODB_URI=... if running (exit 1 otherwise)
#
# Storage: FERRETDB_HANDLER=auto (the default) is PostgreSQL where the server of
# FERRETDB_POSTGRESQL_URL (default postgres://postgres@127.0.0.1:5432/postgres) accepts a
# connection and has 20 free for FerretDB's pool, in a database of its own that `stop`
# drops, and SQLite otherwise;
# FERRETDB_HANDLER=postgresql or sqlite insists on one. The binary decides (-handler auto)
# and says which on its "over" line, printed here.
#
# The Go toolchain: $GO if set, else `go` on PATH, else /usr/local/go/bin/go.
#
# Typical use in a test script:
#   eval "$(test-infra/ferretdb/run.sh start | tail -n1)"; export MONGODB_URI
#   trap 'test-infra/ferretdb/run.sh stop' EXIT
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/bin/ferretdb-test"
RUN_DIR="$HERE/.run"
PID_FILE="$RUN_DIR/ferretdb.pid"
TMP_FILE="$RUN_DIR/tmpdir"  # mktemp dir holding the SQLite data
URI_FILE="$RUN_DIR/uri"
OUT_FILE="$RUN_DIR/ferretdb.out"
LOG_FILE="$RUN_DIR/ferretdb.log"
DEFAULT_PORT=27018
READY_TIMEOUT_S=60
HANDLER="${FERRETDB_HANDLER:-auto}"

die() { echo "run.sh: $*" >&2; exit 1; }

find_go() {
  if [[ -n "${GO:-}" ]]; then [[ -x "$GO" ]] && echo "$GO" || die "GO=$GO is not an executable"
  elif command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else die "go toolchain not found (need Go >= 1.24)"; fi
}

build() {
  if [[ -x "$BIN" ]] && [[ -z "$(find "$HERE" -maxdepth 1 \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$BIN")" ]]; then
    echo "run.sh: $BIN is up to date" >&2
    return 0
  fi
  local go; go="$(find_go)"
  echo "run.sh: building $BIN ..." >&2
  mkdir -p "$HERE/bin"
  (cd "$HERE" && "$go" build ${FERRETDB_BUILD_VERBOSE:+-v} -trimpath -buildvcs=false -o "$BIN.tmp" . && mv -f "$BIN.tmp" "$BIN")
}

# is_ours PID: true if PID is alive and is our binary (guards against PID reuse).
is_ours() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == "$BIN"* ]]
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  is_ours "$pid" && echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# launch PORT: start the server, wait for "ready"; returns 0 on success, 2 if the port was taken, 1 otherwise.
launch() {
  local port="$1" tmp pid uri="" t0 deadline
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-test.XXXXXX")"
  : >"$OUT_FILE"; : >"$LOG_FILE"
  t0=$(date +%s%N)
  "$BIN" -listen "127.0.0.1:$port" -dir "$tmp/data" -handler "$HANDLER" -postgresql-throwaway \
    >"$OUT_FILE" 2>"$LOG_FILE" </dev/null &
  pid=$!
  deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
  while :; do
    if uri="$(sed -n 's/^ready //p' "$OUT_FILE")" && [[ -n "$uri" ]]; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -rf "$tmp"
      if grep -q "address already in use" "$LOG_FILE"; then return 2; fi
      echo "run.sh: ferretdb-test exited before becoming ready; log:" >&2
      cat "$LOG_FILE" >&2
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      kill -TERM "$pid" 2>/dev/null || true
      rm -rf "$tmp"
      echo "run.sh: ferretdb-test not ready after ${READY_TIMEOUT_S}s; log:" >&2
      cat "$LOG_FILE" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "$pid" >"$PID_FILE"
  echo "$tmp" >"$TMP_FILE"
  echo "$uri" >"$URI_FILE"
  echo "run.sh: ferretdb-test pid $pid ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms over $(sed -n 's/^over //p' "$OUT_FILE"), log $LOG_FILE" >&2
  echo "MONGODB_URI=$uri"
}

start() {
  local port="${1:-}" explicit=1
  if [[ -z "$port" ]]; then port=$DEFAULT_PORT; explicit=0; fi
  [[ "$port" =~ ^[0-9]+$ ]] && (( port <= 65535 )) || die "bad port: $port"
  [[ "$HANDLER" =~ ^(auto|postgresql|sqlite)$ ]] || die "FERRETDB_HANDLER must be auto, postgresql or sqlite, not '$HANDLER'"

  mkdir -p "$RUN_DIR"
  local pid
  if pid="$(running_pid)"; then
    echo "run.sh: already running (pid $pid); reusing it (run.sh stop first to change the port)" >&2
    echo "MONGODB_URI=$(cat "$URI_FILE")"
    return 0
  fi
  rm -f "$PID_FILE" "$URI_FILE"

  build

  if (( explicit == 0 )) && port_in_use "$port"; then
    echo "run.sh: port $port is taken, picking a free one" >&2
    port=0
  fi
  local rc=0
  launch "$port" || rc=$?
  if (( rc == 2 )) && (( explicit == 0 )) && (( port != 0 )); then
    echo "run.sh: port $port is taken, picking a free one" >&2
    rc=0; launch 0 || rc=$?
  fi
  if (( rc == 2 )); then
    cat "$LOG_FILE" >&2
    die "port $port is already in use"
  fi
  return "$rc"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: pid $pid did not exit after SIGTERM, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "run.sh: stopped pid $pid" >&2
  else
    echo "run.sh: not running" >&2
  fi
  if [[ -f "$TMP_FILE" ]]; then
    local tmp; tmp="$(cat "$TMP_FILE")"
    # only remove what we created
    [[ "$tmp" == */ferretdb-test.* ]] && rm -rf "$tmp"
  fi
  rm -f "$PID_FILE" "$TMP_FILE" "$URI_FILE"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "run.sh: running (pid $pid)" >&2
    echo "MONGODB_URI=$(cat "$URI_FILE")"
  else
    echo "run.sh: not running" >&2
    return 1
  fi
}

case "${1:-}" in
  build) build ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 build | start [port] | stop | status" >&2; exit 2 ;;
esac
