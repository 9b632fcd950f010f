#!/usr/bin/env bash
# Start or stop several services at once, printing how long each took.
#   scripts/services/all.sh up|down|status|install [kafka influxdb opensearch ...]
# With no names: all of them. `up` installs what is missing, starts, and prints
# NAME=ADDRESS lines on stdout (e.g. KAFKA=127.0.0.1:9092) that callers can eval
# or source; it stops at the first service that fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ALL=(kafka influxdb opensearch)

cmd=${1:-}; shift || true
names=("$@"); [ ${#names[@]} -eq 0 ] && names=("${ALL[@]}")
for n in "${names[@]}"; do
  [ -x "$here/$n.sh" ] || { echo "all.sh: unknown service '$n' (known: ${ALL[*]})" >&2; exit 2; }
done

now_ms() { date +%s%3N; }
run_each() {
  local action=$1 n t0 addr rc=0
  for n in "${names[@]}"; do
    t0=$(now_ms)
    if addr=$("$here/$n.sh" "$action"); then
      printf '[all] %s %s: %d ms\n' "$n" "$action" $(( $(now_ms) - t0 )) >&2
      if [ -n "$addr" ]; then echo "$(echo "$n" | tr '[:lower:]' '[:upper:]')=$addr"; fi
    else
      printf '[all] %s %s FAILED after %d ms\n' "$n" "$action" $(( $(now_ms) - t0 )) >&2
      rc=1
      [ "$action" = start ] && return 1
    fi
  done
  return $rc
}

case "$cmd" in
  up) run_each start ;;
  down)
    # Reverse order: consumers of a service are stopped before it.
    rev=(); for ((i = ${#names[@]} - 1; i >= 0; i--)); do rev+=("${names[$i]}"); done
    names=("${rev[@]}"); run_each stop ;;
  status) run_each status ;;
  install) run_each install ;;
  *) echo "usage: $0 up|down|status|install [${ALL[*]}]" >&2; exit 2 ;;
esac
