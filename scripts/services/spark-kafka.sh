#!/usr/bin/env bash
# The jars Spark Structured Streaming needs to read and write Kafka from pyspark
# (spark-sql-kafka-0-10_2.13 matching pyspark 4.0.1, and its dependencies that pyspark does not
# ship), fetched from Maven Central with Maven into the cache dir, so spark-submit gets them with
# --jars and never resolves --packages through Ivy at run time. Not a server: nothing to start.
#   scripts/services/spark-kafka.sh install|jars|status
# `install` is idempotent (stamped with the pom); `jars` installs if needed and prints the
# comma-separated jar paths for spark-submit --jars on stdout.
# Env: SPARK_KAFKA_VERSION (pom default, must match pyspark), RETIMUAD_SERVICES_DIR.
# shellcheck disable=SC2034 # read by lib.sh (log prefix, maven log name)
SERVICE=spark-kafka
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HOME_DIR="$SERVICES_DIR/spark-kafka"
LIB="$HOME_DIR/jars"
STAMP="$HOME_DIR/.installed"
POM="$SERVICES_SRC/spark-kafka/pom.xml"

stamp() { echo "${SPARK_KAFKA_VERSION:-pom}:$(cksum <"$POM" | cut -d' ' -f1)"; }
installed() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp)" ]; }

install() {
  local t0; t0=$(now_ms)
  if installed; then log "already installed in $LIB ($(elapsed "$t0"))"; return 0; fi
  ensure_maven
  rm -rf "$LIB" "$STAMP"
  local vers=(); [ -n "${SPARK_KAFKA_VERSION:-}" ] && vers=("-Dspark.version=$SPARK_KAFKA_VERSION")
  mvn_run "$POM" -s "$SERVICES_SRC/spark-kafka/settings.xml" "${vers[@]}" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB"
  stamp >"$STAMP"
  log "installed $(find "$LIB" -name '*.jar' | wc -l) jars in $LIB in $(elapsed "$t0")"
}

jars() {
  installed || install
  local out=() j
  for j in "$LIB"/*.jar; do out+=("$j"); done
  [ ${#out[@]} -gt 0 ] || die "no jars in $LIB"
  (IFS=,; echo "${out[*]}")
}

case "${1:-}" in
  install) install ;;
  jars) jars ;;
  status) if installed; then log "installed in $LIB"; jars; else log "not installed"; exit 1; fi ;;
  *) echo "usage: $0 install|jars|status   (cache: $SERVICES_DIR)" >&2; exit 2 ;;
esac
