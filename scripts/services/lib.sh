# shellcheck shell=bash
# Shared helpers for scripts/services/<name>.sh: cache dir, apt/maven bootstrap,
# background processes tracked by pid file, and readiness waits.
# Sourced, not run:  . "$(dirname "$0")/lib.sh"
#
# Everything a service downloads, installs or writes lives under
# $SERVICES_DIR (default ~/.cache/retimuad-services), never in the repo.

set -euo pipefail

SERVICES_DIR="${RETIMUAD_SERVICES_DIR:-$HOME/.cache/retimuad-services}"
# shellcheck disable=SC2034 # used by the scripts that source this file
SERVICES_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# One Maven repository for all services so CI can cache a single folder.
M2_REPO="$SERVICES_DIR/m2"

log() { printf '[%s] %s\n' "${SERVICE:-services}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Seconds since epoch with millis, for the timings the scripts print.
now_ms() { date +%s%3N; }
elapsed() { local t0=$1; printf '%d.%03ds' $(( ($(now_ms) - t0) / 1000 )) $(( ($(now_ms) - t0) % 1000 )); }

_APT_UPDATED=0
# apt_install PKG... — install Debian packages that are missing (root or sudo).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ "$_APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq >/dev/null
    _APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_java — a JDK 17+ as `java` (Debian's default-jdk-headless is 17 on bookworm).
ensure_java() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
}

ensure_maven() {
  ensure_java
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

# mvn_run POM ARGS... — batch-mode Maven with the shared local repo; its
# output goes to $SERVICES_DIR/logs/maven-<service>.log and is shown on failure.
mvn_run() {
  local pom=$1; shift
  local out="$SERVICES_DIR/logs/maven-${SERVICE:-services}.log"
  mkdir -p "$SERVICES_DIR/logs"
  if ! mvn -B -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" -f "$pom" "$@" >"$out" 2>&1; then
    grep -E '^\[(ERROR|WARNING)\]' "$out" | head -n 40 >&2 || tail -n 40 "$out" >&2
    die "maven failed (full log: $out)"
  fi
}

# pid_alive PIDFILE — true when the pid file names a live process.
pid_alive() {
  local f=$1 pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null
}

# spawn PIDFILE LOGFILE CMD... — start CMD detached (own session, survives the
# calling shell) with stdout+stderr to LOGFILE, record its pid.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# stop_pid PIDFILE [TIMEOUT_SECS] — SIGTERM the recorded pid, SIGKILL after timeout.
stop_pid() {
  local f=$1 timeout=${2:-30} pid i
  if ! pid_alive "$f"; then rm -f "$f"; log "not running"; return 0; fi
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$f"; log "stopped (pid $pid)"; return 0; }
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for ${timeout}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

# tcp_open HOST PORT — true when something accepts a TCP connection there.
tcp_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# port_free_or_die HOST PORT — refuse to start over someone else's listener.
port_free_or_die() {
  if tcp_open "$1" "$2"; then die "$1:$2 is already in use by another process"; fi
}

# wait_until TIMEOUT_SECS PIDFILE LOGFILE CMD... — poll CMD every 0.2 s until it
# succeeds; fail early if the process died, with the end of its log.
wait_until() {
  local timeout=$1 pidfile=$2 logfile=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      log "process exited during startup; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "not ready after ${timeout}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# http_ok URL — true on a 2xx answer (curl if present, else bash /dev/tcp).
http_ok() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$1"
  else
    local rest=${1#http://} hostport path host port
    hostport=${rest%%/*}; path=/${rest#*/}; [ "$hostport" = "$rest" ] && path=/
    host=${hostport%:*}; port=${hostport##*:}
    exec 3<>"/dev/tcp/$host/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
    local status; read -r _ status _ <&3 || true
    exec 3>&-
    [[ "$status" == 2* ]]
  fi
}

# usage NAME — the common command line of every service script.
usage() {
  echo "usage: $1 install|start|stop|status   (cache: $SERVICES_DIR)" >&2
  exit 2
}
