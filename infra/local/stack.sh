#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft, one node) from Maven Central jars, Apicurio
# Registry (Confluent-compatible API) from Maven Central, and moto's S3 server from PyPI.
#
#   stack.sh up       download what is missing, start what is not running, wait until ready
#   stack.sh ensure   like up, quiet when everything already answers (used by npm test)
#   stack.sh down     stop the processes this script started (pid files only)
#   stack.sh status   one line per component
#
# STACK=docker runs docker-compose.kafka.yml (Redpanda + MinIO) on the same ports instead.
#
# A second, independent stack (tests of this script) sets STACK_STATE_DIR, the LOCAL_*_PORT variables
# and, to start only some components, STACK_COMPONENTS (e.g. "s3"). Defaults: .local-stack, the ports
# below, all three components.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/local"
STATE="${STACK_STATE_DIR:-$ROOT/.local-stack}"
DOWNLOADS="$STATE/downloads"

KAFKA_PORT="${LOCAL_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${LOCAL_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_PORT="${LOCAL_KAFKA_SASL_PORT:-9096}"
# How long a SCRAM session lives before the client must re-authenticate (kafka.properties.template).
KAFKA_SASL_REAUTH_MS="${LOCAL_KAFKA_SASL_REAUTH_MS:-60000}"
REGISTRY_PORT="${LOCAL_REGISTRY_PORT:-8081}"
REGISTRY_MANAGEMENT_PORT="${LOCAL_REGISTRY_MANAGEMENT_PORT:-18081}"
S3_PORT="${LOCAL_S3_PORT:-9000}"
APICURIO_VERSION="3.3.3"
READY_TIMEOUT_S="${STACK_READY_TIMEOUT_S:-120}"

# Local-only SCRAM users, created when the broker's storage is formatted. Never used outside loopback.
SCRAM_ADMIN_PASSWORD="${LOCAL_SCRAM_ADMIN_PASSWORD:-admin-secret}"
SCRAM_APP_USER="${LOCAL_SCRAM_APP_USER:-securecart-app}"
SCRAM_APP_PASSWORD="${LOCAL_SCRAM_APP_PASSWORD:-securecart-app-secret}"

read -r -a COMPONENTS <<<"${STACK_COMPONENTS:-kafka registry s3}"
for c in "${COMPONENTS[@]}"; do
  case "$c" in kafka|registry|s3) ;; *) printf '[stack] ERROR: unknown component %s in STACK_COMPONENTS\n' "$c" >&2; exit 1 ;; esac
done
has_component() { [[ " ${COMPONENTS[*]} " == *" $1 "* ]]; }

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

pid_file() { echo "$STATE/$1/$1.pid"; }
log_file() { echo "$STATE/$1/$1.log"; }

# Alive, and still the process this stack started: after a reboot the pid may belong to anyone, so
# its command line must name this stack's state folder (every component's does).
is_running() {
  local pf; pf="$(pid_file "$1")"
  [[ -f "$pf" ]] || return 1
  local pid; pid="$(cat "$pf")"
  kill -0 "$pid" 2>/dev/null || return 1
  # No pipe into `grep -q` here: under pipefail its early exit would fail the check with SIGPIPE.
  local cmdline; cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$STATE"* ]]
}

port_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    registry) echo "$REGISTRY_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}

# Every port a component listens on: its service port first, then the ones beside it.
ports_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT $KAFKA_SASL_PORT" ;;
    registry) echo "$REGISTRY_PORT $REGISTRY_MANAGEMENT_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Before anything starts: a port taken by someone else fails `up` at once, naming the component, the
# port and the log it would have written, instead of after the other JVMs have spent a minute starting.
check_ports_free() {
  local name port taken=0
  for name in "${COMPONENTS[@]}"; do
    is_running "$name" && continue
    for port in $(ports_of "$name"); do
      if port_in_use "$port"; then
        log "ERROR: $name: port $port is taken by a process this stack did not start (another broker, registry or S3 server, or Docker's stack?); log: $(log_file "$name")"
        taken=1
      fi
    done
  done
  (( taken == 0 )) || die "nothing started: free the port(s) above or set the LOCAL_*_PORT variables"
}

# Starts a command in its own session so `down` can stop it and anything it spawned by process group.
spawn() {
  local name="$1"; shift
  mkdir -p "$STATE/$name"
  local lf; lf="$(log_file "$name")"
  printf '\n===== start %s =====\n' "$(date -u +%FT%TZ)" >>"$lf"
  setsid "$@" >>"$lf" 2>&1 < /dev/null &
  echo $! >"$(pid_file "$name")"
}

# ---------------------------------------------------------------- downloads (cached in $DOWNLOADS)

kafka_libs_dir() {
  local pom_hash; pom_hash="$(sha1sum "$HERE/pom.xml" | cut -c1-12)"
  echo "$DOWNLOADS/kafka-libs-$pom_hash"
}

fetch_kafka() {
  local dir; dir="$(kafka_libs_dir)"
  [[ -f "$dir/.complete" ]] && return 0
  command -v mvn >/dev/null || die "kafka: Maven (mvn) is required to fetch the Kafka jars"
  log "kafka: fetching jars from Maven Central into $dir"
  rm -rf "$dir"; mkdir -p "$dir"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dir" >"$DOWNLOADS/kafka-fetch.log" 2>&1 \
    || die "kafka: Maven fetch failed, see $DOWNLOADS/kafka-fetch.log"
  touch "$dir/.complete"
}

fetch_registry() {
  local dir="$DOWNLOADS/apicurio-registry-$APICURIO_VERSION"
  [[ -f "$dir/.complete" ]] && return 0
  command -v mvn >/dev/null || die "registry: Maven (mvn) is required to fetch Apicurio Registry"
  log "registry: fetching Apicurio Registry $APICURIO_VERSION from Maven Central"
  rm -rf "$dir"; mkdir -p "$dir"
  mvn -q -B dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$DOWNLOADS" >"$DOWNLOADS/registry-fetch.log" 2>&1 \
    || die "registry: Maven fetch failed, see $DOWNLOADS/registry-fetch.log"
  tar -xzf "$DOWNLOADS/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$dir"
  rm -f "$DOWNLOADS/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  touch "$dir/.complete"
}

fetch_s3() {
  local venv="$DOWNLOADS/venv"
  local req_hash; req_hash="$(sha1sum "$HERE/requirements.txt" | cut -c1-12)"
  [[ -f "$venv/.complete-$req_hash" ]] && return 0
  log "s3: installing moto server into $venv"
  python3 -m venv "$venv" || die "s3: python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
    >"$DOWNLOADS/s3-fetch.log" 2>&1 || die "s3: pip install failed, see $DOWNLOADS/s3-fetch.log"
  rm -f "$venv"/.complete-*; touch "$venv/.complete-$req_hash"
}

# Apicurio Registry 3.x is compiled for Java 21; the broker runs on any Java 17+.
find_java21() {
  local candidates=()
  [[ -n "${REGISTRY_JAVA_HOME:-}" ]] && candidates+=("$REGISTRY_JAVA_HOME/bin/java")
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  candidates+=("$(command -v java || true)")
  local j; for j in /usr/lib/jvm/*/bin/java; do candidates+=("$j"); done
  for j in "${candidates[@]}"; do
    [[ -x "$j" ]] || continue
    local major
    major="$("$j" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
    if [[ "${major%%.*}" -ge 21 ]] 2>/dev/null; then echo "$j"; return 0; fi
  done
  return 1
}

# ---------------------------------------------------------------- start

start_kafka() {
  local libs; libs="$(kafka_libs_dir)"
  local dir="$STATE/kafka"; mkdir -p "$dir"
  sed -e "s|@PLAINTEXT_PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@SASL_PORT@|$KAFKA_SASL_PORT|g" -e "s|@DATA_DIR@|$dir/data|g" \
      -e "s|@SASL_REAUTH_MS@|$KAFKA_SASL_REAUTH_MS|g" \
      "$HERE/kafka.properties.template" >"$dir/server.properties"
  local java_opts=(-Xms256m -Xmx1g -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$libs/*")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>>"$(log_file kafka)" | tail -n 1)" \
      || die "kafka: could not generate a cluster id, see $(log_file kafka)"
    java "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$SCRAM_ADMIN_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=$SCRAM_APP_USER,password=$SCRAM_APP_PASSWORD]" \
      >/dev/null 2>>"$(log_file kafka)" || die "kafka: storage format failed, see $(log_file kafka)"
  fi
  spawn kafka java "${java_opts[@]}" kafka.Kafka "$dir/server.properties"
}

start_registry() {
  local java; java="$(find_java21)" || die "registry: Apicurio Registry $APICURIO_VERSION needs Java 21+; none found (set REGISTRY_JAVA_HOME)"
  local dir="$DOWNLOADS/apicurio-registry-$APICURIO_VERSION"
  # Schemas persist in an H2 file beside the broker's data, so records written before a restart still
  # find their schema ids; the registry does not depend on Kafka and starts in parallel with it.
  mkdir -p "$STATE/registry/data"
  spawn registry "$java" -Xms128m -Xmx512m \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dquarkus.log.console.json=false \
    -Dapicurio.ccompat.use-canonical-hash=true \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.url="jdbc:h2:file:$STATE/registry/data/registry" \
    -Dapicurio.datasource.username=sa -Dapicurio.datasource.password=sa \
    -jar "$dir/quarkus-run.jar"
}

start_s3() {
  spawn s3 "$DOWNLOADS/venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT"
}

# ---------------------------------------------------------------- readiness

# A closed port is checked in bash for free; only an open one gets the real (node) request, so polling
# does not compete with the JVMs for the CPU while they start.
probe() { port_in_use "$(port_of "$1")" && node --no-warnings "$HERE/probe.js" "$1" >/dev/null 2>&1; }

wait_ready() {
  local name="$1" deadline=$((SECONDS + READY_TIMEOUT_S))
  until probe "$name"; do
    if ! is_running "$name"; then
      die "$name: process exited before it was ready; log: $(log_file "$name")"
    fi
    if (( SECONDS >= deadline )); then
      die "$name: not ready after ${READY_TIMEOUT_S}s; log: $(log_file "$name")"
    fi
    sleep 0.5
  done
}

bring_up() {
  local name="$1"
  if is_running "$name"; then
    wait_ready "$name"; return 0
  fi
  if port_in_use "$(port_of "$name")"; then
    die "$name: port $(port_of "$name") is taken by a process this stack did not start (is Docker's stack or another broker running?)"
  fi
  "start_$name"
  wait_ready "$name"
  log "$name: ready (pid $(cat "$(pid_file "$name")"), log $(log_file "$name"))"
}

cmd_up() {
  local t0=$SECONDS cold=warm
  [[ -d "$ROOT/node_modules/kafkajs" ]] || die "run npm ci first: the readiness probes use the project's own clients"
  check_ports_free
  mkdir -p "$DOWNLOADS"
  [[ -f "$(kafka_libs_dir)/.complete" && -f "$DOWNLOADS/apicurio-registry-$APICURIO_VERSION/.complete" ]] || cold=cold
  # Downloads run in parallel: they are network- and disk-bound, not CPU-bound.
  local pids=() failed=0 name
  for name in "${COMPONENTS[@]}"; do "fetch_$name" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  (( failed == 0 )) || die "a download failed (see above)"
  # The three are independent: start them together and wait for all.
  local starts=() failed_up=0
  for name in "${COMPONENTS[@]}"; do bring_up "$name" & starts+=($!); done
  for p in "${starts[@]}"; do wait "$p" || failed_up=1; done
  (( failed_up == 0 )) || die "the stack did not come up (see above)"
  if has_component s3; then
    node --no-warnings "$HERE/probe.js" create-lake-bucket || die "s3: could not create the lake bucket; log: $(log_file s3)"
  fi
  log "stack ready in $((SECONDS - t0))s ($cold start): kafka 127.0.0.1:$KAFKA_PORT (SCRAM 127.0.0.1:$KAFKA_SASL_PORT), registry http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7, s3 http://127.0.0.1:$S3_PORT"
}

cmd_ensure() {
  local all_ready=1 name
  for name in "${COMPONENTS[@]}"; do probe "$name" || all_ready=0; done
  if (( all_ready )); then log "stack already running"; return 0; fi
  cmd_up
}

stop_one() {
  local name="$1" pf; pf="$(pid_file "$name")"
  [[ -f "$pf" ]] || return 0
  local pid; pid="$(cat "$pf")"
  if is_running "$name"; then
    # setsid made the pid its process group leader: signal the whole group, nothing else.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i; for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name: did not stop in 15s, killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name: stopped (pid $pid)"
  fi
  rm -f "$pf"
}

cmd_down() {
  local name pids=()
  for name in "${COMPONENTS[@]}"; do
    if is_running "$name"; then pids+=("$(cat "$(pid_file "$name")")"); fi
    stop_one "$name"
  done
  # Nothing the stack started may survive: not the leaders, nor anything in their process groups.
  local left; left="$(for p in "${pids[@]}"; do pgrep -g "$p" 2>/dev/null || true; done)"
  [[ -z "$left" ]] || die "processes still running after down: $(echo "$left" | tr '\n' ' ')"
  log "stack down: no stack process left"
}

cmd_status() {
  local name rc=0
  for name in "${COMPONENTS[@]}"; do
    local state="stopped" pid="-"
    if is_running "$name"; then
      pid="$(cat "$(pid_file "$name")")"
      if probe "$name"; then state="ready"; else state="starting/unhealthy"; rc=1; fi
    else rc=1; fi
    printf '%-9s %-19s pid=%-8s port=%-5s log=%s\n' "$name" "$state" "$pid" "$(port_of "$name")" "$(log_file "$name")"
  done
  return $rc
}

docker_stack() {
  command -v docker >/dev/null || die "STACK=docker needs the docker CLI and a running engine"
  case "$1" in
    up|ensure) docker compose -f "$ROOT/docker-compose.kafka.yml" up -d --wait ;;
    down) docker compose -f "$ROOT/docker-compose.kafka.yml" down ;;
    status) docker compose -f "$ROOT/docker-compose.kafka.yml" ps ;;
  esac
}

main() {
  local cmd="${1:-}"
  case "$cmd" in up|ensure|down|status) ;; *) die "usage: stack.sh up|ensure|down|status" ;; esac
  if [[ "${STACK:-local}" == "docker" ]]; then docker_stack "$cmd"; return; fi
  "cmd_$cmd"
}

main "$@"
