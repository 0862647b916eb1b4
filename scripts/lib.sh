# Shared by scripts/run-local and scripts/test: installs what is missing, and starts and stops a
# private PostgreSQL and the local Kafka broker. Source it; it defines functions only.

sluice_log() { printf '[sluice] %s\n' "$*" >&2; }
sluice_die() { printf '[sluice] error: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages Sluice needs, and any named, when one is missing (apt-get update first, once).
# libjs-dygraphs is the charting library the bridge's chart page loads from the bridge itself.
sluice_ensure_packages() {
    local wanted=(librdkafka-dev zlib1g-dev libsnappy-dev postgresql pkg-config curl python3 python3-venv libjs-dygraphs "$@") missing=()
    local package
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    sluice_log "installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# sluice_agents_venv: a venv in .build/agents-venv with the agents' client libraries the tests drive
# (the official InfluxDB Python clients; kairosdb-python, with the httpx and pandas it imports but does
# not declare; websocket-client for scripts/page-driver.py), made once; prints its python.
SLUICE_AGENTS_PACKAGES=("influxdb-client==1.50.0" "influxdb==5.3.2" "kairosdb-python==0.0.1" "httpx==0.29.0" "pandas==3.1.1" "websocket-client==1.9.2")
sluice_agents_venv() {
    local venv=.build/agents-venv stamp
    stamp="${SLUICE_AGENTS_PACKAGES[*]}"
    if [ "$(cat "$venv/.packages" 2>/dev/null)" != "$stamp" ]; then
        sluice_log "installing ${SLUICE_AGENTS_PACKAGES[*]} into $venv…" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "${SLUICE_AGENTS_PACKAGES[@]}" >&2
        echo "$stamp" >"$venv/.packages"
    fi
    echo "$PWD/$venv/bin/python"
}

sluice_pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || sluice_die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    echo "$dir"
}

# Runs a PostgreSQL command as the data directory's owner: the postgres user when we are root.
sluice_as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# sluice_start_postgres DIR PORT: a fresh cluster in DIR listening on 127.0.0.1:PORT only, with a
# superuser "sluice" (trust authentication on loopback) and a database "sluice". SLUICE_PG_OPTIONS adds
# server options ("-c name=value …"), for profiling.
sluice_start_postgres() {
    local dir=$1 port=$2 bin
    bin=$(sluice_pg_bin)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    sluice_as_pg_owner "$bin/initdb" -D "$dir/data" -U sluice --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; sluice_die "initdb failed"; }
    sluice_as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c max_connections=200 -c shared_buffers=512MB ${SLUICE_PG_OPTIONS:-}" >/dev/null \
        || { cat "$dir/postgres.log" >&2; sluice_die "PostgreSQL did not start on port $port"; }
    PGPASSWORD= psql -h 127.0.0.1 -p "$port" -U sluice -d postgres -qAtc "create database sluice" >/dev/null
    sluice_log "PostgreSQL on 127.0.0.1:$port (data in $dir/data)"
}

sluice_stop_postgres() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    sluice_as_pg_owner "$(sluice_pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# sluice_start_broker BIN DIR: starts the local broker, sets SLUICE_BROKER_PID and SLUICE_KAFKA_BOOTSTRAP.
sluice_start_broker() {
    local bin=$1 dir=$2 waited=0
    rm -f "$dir/kafka.address"
    SLUICE_LOCAL_KAFKA_ADDRESS_FILE="$dir/kafka.address" "$bin/sluice-local-kafka" >"$dir/kafka.log" 2>&1 &
    SLUICE_BROKER_PID=$!
    while [ ! -s "$dir/kafka.address" ]; do
        kill -0 "$SLUICE_BROKER_PID" 2>/dev/null || { cat "$dir/kafka.log" >&2; sluice_die "the local broker exited"; }
        sleep 0.1
        waited=$((waited + 1))
        [ $waited -lt 100 ] || sluice_die "the local broker did not report its address within 10 s"
    done
    SLUICE_KAFKA_BOOTSTRAP=$(cat "$dir/kafka.address")
    export SLUICE_KAFKA_BOOTSTRAP
    sluice_log "local Kafka broker (in memory) on $SLUICE_KAFKA_BOOTSTRAP"
}

# sluice_stop_process PID NAME: SIGTERM, then wait up to 20 s before SIGKILL.
sluice_stop_process() {
    local pid=$1 name=$2 waited=0
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        waited=$((waited + 1))
        if [ $waited -ge 200 ]; then
            sluice_log "$name did not stop within 20 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
    done
    wait "$pid" 2>/dev/null || true
}

# sluice_preload_history BIN END STEP_MS: 24 h of history for the top-100 tags (tag-00001…tag-00100) of
# the default domain straight into PostgreSQL, one row per STEP_MS ms back from END (ns), every value of
# row i (counting back) i mod 1000 — what the benchmarks' readers ask for. Makes the day partitions first.
sluice_preload_history() {
    local bin=$1 end=$2 step_ms=$3 step=$(($3 * 1000000)) started
    "$bin/sluice-admin" retention apply >/dev/null
    started=$(date +%s)
    psql -h 127.0.0.1 -p "$SLUICE_PG_PORT" -U sluice -d sluice -qAt -v ON_ERROR_STOP=1 <<SQL
insert into series (domain, tag) select 'default', 'tag-' || lpad(n::text, 5, '0') from generate_series(1, 100) n on conflict do nothing;
insert into measurements (series_id, ts, vals)
select s.id, $end - i * $step::bigint, array_fill((i % 1000)::float8, array[10])
from series s cross join generate_series(0, 86400000 / $step_ms - 1) i
where s.domain = 'default' and s.tag between 'tag-00001' and 'tag-00100';
analyze measurements;
SQL
    sluice_log "preloaded 24 h for the top-100 tags, one row per $step_ms ms each, in $(($(date +%s) - started)) s"
}

# sluice_cpu_seconds PID [DECIMALS (2)]: CPU-seconds a live process has used, its reaped children's
# included; "?" once it is gone.
sluice_cpu_seconds() {
    awk -v t="$(getconf CLK_TCK)" -v d="${2:-2}" '{ printf "%." d "f", ($14 + $15 + $16 + $17) / t }' "/proc/$1/stat" 2>/dev/null || echo "?"
}

# sluice_postgres_cpu_seconds [DECIMALS (2)]: CPU-seconds of the stack's PostgreSQL: the server with the
# backends it reaped, and the live ones (a backend that ends meanwhile is skipped).
sluice_postgres_cpu_seconds() {
    local main
    main=$(head -n 1 "$SLUICE_STACK_DIR/pg/data/postmaster.pid")
    { cat /proc/"$main"/stat $(pgrep -P "$main" | sed 's|.*|/proc/&/stat|') 2>/dev/null || true; } \
        | awk -v t="$(getconf CLK_TCK)" -v d="${1:-2}" '{ s += $14 + $15 + $16 + $17 } END { printf "%." d "f", s / t }'
}

# PostgreSQL settings that keep each statement's planning and execution times (pg_stat_statements):
# export them as SLUICE_PG_OPTIONS before sluice_start_stack; sluice_reset_statements starts the count
# (creating the extension the first time) and sluice_print_statements [LIMIT (12)] prints the statements
# that took the most time since.
SLUICE_STATEMENT_STATS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
sluice_reset_statements() {
    psql -h 127.0.0.1 -p "$SLUICE_PG_PORT" -U sluice -d sluice -qAt -v ON_ERROR_STOP=1 \
        -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null
}
sluice_print_statements() {
    psql -h 127.0.0.1 -p "$SLUICE_PG_PORT" -U sluice -d sluice -qAt -v ON_ERROR_STOP=1 -v limit="${1:-12}" -F $'\t' <<'SQL' \
        | awk -F'\t' '{ printf "  %8s calls  plan %7.3f + run %8.3f ms mean  total %7.1f s  rows %9s  %s\n", $1, $2, $3, $4 / 1000, $5, $6 }'
select calls, mean_plan_time, mean_exec_time, total_plan_time + total_exec_time, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 100)
from pg_stat_statements order by total_plan_time + total_exec_time desc limit :limit
SQL
}

# sluice_perf_start PID FILE [SECONDS]: samples PID's stacks (cpu-clock, the only event this machine
# counts; call graphs) into FILE in the background, for SECONDS or until sluice_perf_stop; needs
# linux-perf (sluice_ensure_packages linux-perf). sluice_perf_print FILE [LINES (25)] prints the hottest
# symbols by self time, demangled.
sluice_perf_start() {
    local pid=$1 file=$2 seconds=${3:-86400}
    perf record -e cpu-clock -F 999 -g -p "$pid" -o "$file" -- sleep "$seconds" >/dev/null 2>&1 &
    SLUICE_PERF_PID=$!
}
sluice_perf_stop() {
    # perf writes its file when the command it waits on ends.
    pkill -INT -P "$SLUICE_PERF_PID" sleep 2>/dev/null || true
    wait "$SLUICE_PERF_PID" 2>/dev/null || true
}
sluice_perf_print() {
    perf report -i "$1" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' \
        | swift demangle --simplified | cut -c1-160 | sed -n "1,${2:-25}p"
}

# sluice_wait_until_answered URL NAME LOG: waits up to 30 s for URL to answer 2xx, or dies showing LOG.
sluice_wait_until_answered() {
    local url=$1 name=$2 log=$3
    for _ in $(seq 1 150); do curl -sf "$url" >/dev/null && return 0; sleep 0.2; done
    tail -n 20 "$log" >&2
    sluice_die "$name did not start; see $log"
}

# sluice_start_influxdb DIR: InfluxDB 1.x (Debian's influxd) on a free loopback port, its data in DIR;
# sets SLUICE_INFLUX_URL and SLUICE_INFLUXD_PID (stop it with sluice_stop_process). Data written once is
# snapshotted and fully compacted soon after, as hours-old data would be.
sluice_start_influxdb() {
    local dir=$1 port
    port=$(sluice_free_port)
    mkdir -p "$dir"
    cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$(sluice_free_port)"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
  compact-full-write-cold-duration = "30s"
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
CONF
    influxd -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
    SLUICE_INFLUXD_PID=$!
    SLUICE_INFLUX_URL=http://127.0.0.1:$port
    sluice_wait_until_answered "$SLUICE_INFLUX_URL/ping" influxd "$dir/influxd.log"
    sluice_log "InfluxDB $(influxd version 2>/dev/null | awk '{print $2}') on $SLUICE_INFLUX_URL"
}

# sluice_start_prometheus DIR: Prometheus (Debian's) on a free loopback port with its remote-write
# receiver on, scraping nothing, accepting samples up to 30 minutes out of order (concurrent writers),
# its data in DIR; sets SLUICE_PROMETHEUS_URL and SLUICE_PROMETHEUS_PID.
sluice_start_prometheus() {
    local dir=$1 port
    port=$(sluice_free_port)
    mkdir -p "$dir/data"
    cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1h
storage:
  tsdb:
    out_of_order_time_window: 30m
CONF
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=45d \
        --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver >"$dir/prometheus.log" 2>&1 &
    SLUICE_PROMETHEUS_PID=$!
    SLUICE_PROMETHEUS_URL=http://127.0.0.1:$port
    sluice_wait_until_answered "$SLUICE_PROMETHEUS_URL/-/ready" prometheus "$dir/prometheus.log"
    sluice_log "Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') on $SLUICE_PROMETHEUS_URL"
}

# A TCP port on 127.0.0.1 that nothing listens on (bash only: a connect that fails means it is free).
sluice_free_port() {
    # Below the kernel's ephemeral range: a port there may be the local end of an outgoing connection
    # (to PostgreSQL, Kafka, a test client) by the time a service binds it, which no probe can foresee.
    local port tries=0 ephemeral
    ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$ephemeral" -gt 12000 ] 2>/dev/null || ephemeral=32768
    while [ $tries -lt 200 ]; do
        port=$((10000 + RANDOM % (ephemeral - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    sluice_die "found no free port on 127.0.0.1"
}

# sluice_use_free_ports: exports SLUICE_INGEST_PORT, SLUICE_QUERY_PORT, SLUICE_WRITER_PORT and
# SLUICE_BRIDGE_PORT as free loopback ports, for a stack beside whatever else runs.
sluice_use_free_ports() {
    export SLUICE_INGEST_PORT=$(sluice_free_port) SLUICE_QUERY_PORT=$(sluice_free_port) SLUICE_WRITER_PORT=$(sluice_free_port) \
        SLUICE_BRIDGE_PORT=$(sluice_free_port)
}

# sluice_start_stack BIN RUN_DIR: PostgreSQL, the local broker, then writer, query, bridge and ingest,
# each waited for on /health. Uses SLUICE_PG_PORT and the SLUICE_*_PORT variables (defaults 8080–8083),
# fills SLUICE_PIDS / SLUICE_NAMES, and writes RUN_DIR/stack.env. Stop with sluice_stop_stack.
sluice_start_stack() {
    local bin=$1 dir=$2
    export SLUICE_PG_PORT=${SLUICE_PG_PORT:-$(sluice_free_port)}
    export SLUICE_INGEST_PORT=${SLUICE_INGEST_PORT:-8080}
    export SLUICE_QUERY_PORT=${SLUICE_QUERY_PORT:-8081}
    export SLUICE_WRITER_PORT=${SLUICE_WRITER_PORT:-8082}
    export SLUICE_BRIDGE_PORT=${SLUICE_BRIDGE_PORT:-8083}
    export SLUICE_QUERY_URL=${SLUICE_QUERY_URL:-http://127.0.0.1:$SLUICE_QUERY_PORT}
    SLUICE_PIDS=()
    SLUICE_NAMES=()
    SLUICE_STACK_DIR=$dir
    sluice_start_postgres "$dir/pg" "$SLUICE_PG_PORT"
    sluice_start_broker "$bin" "$dir"
    if [ "${SLUICE_AUTH:-off}" = required ]; then sluice_issue_admin_key "$bin" "$dir"; fi
    sluice_start_service "$bin" "$dir" writer "$SLUICE_WRITER_PORT"
    sluice_start_service "$bin" "$dir" query "$SLUICE_QUERY_PORT"
    sluice_start_service "$bin" "$dir" bridge "$SLUICE_BRIDGE_PORT"
    sluice_start_service "$bin" "$dir" ingest "$SLUICE_INGEST_PORT"
    sluice_wait_for_writer_assignment "$SLUICE_WRITER_PORT"
    cat >"$dir/stack.env" <<ENV
SLUICE_PG_PORT=$SLUICE_PG_PORT
SLUICE_KAFKA_BOOTSTRAP=$SLUICE_KAFKA_BOOTSTRAP
SLUICE_INGEST_PORT=$SLUICE_INGEST_PORT
SLUICE_QUERY_PORT=$SLUICE_QUERY_PORT
SLUICE_WRITER_PORT=$SLUICE_WRITER_PORT
SLUICE_BRIDGE_PORT=$SLUICE_BRIDGE_PORT
ENV
    # With keys required, what sluice-admin needs beside the ports: `set -a; . stack.env` is then enough
    # to run it. The master key itself stays in its own file (or in the caller's environment).
    if [ "${SLUICE_AUTH:-off}" = required ]; then
        echo "SLUICE_AUTH=required" >>"$dir/stack.env"
        if [ -n "${SLUICE_AUTH_MASTER_KEY_FILE:-}" ]; then echo "SLUICE_AUTH_MASTER_KEY_FILE=$SLUICE_AUTH_MASTER_KEY_FILE" >>"$dir/stack.env"; fi
    fi
}

# sluice_issue_admin_key BIN RUN_DIR: with SLUICE_AUTH=required, makes a master key (unless one is set)
# and one key with rights *:rw, written to RUN_DIR/admin-key.json and exported as SLUICE_KEY_ID and
# SLUICE_KEY_SECRET (the load generators read them).
sluice_issue_admin_key() {
    local bin=$1 dir=$2 issued
    if [ -z "${SLUICE_AUTH_MASTER_KEY:-}" ] && [ -z "${SLUICE_AUTH_MASTER_KEY_FILE:-}" ]; then
        (umask 077 && "$bin/sluice-admin" master-key >"$dir/master.key")
        export SLUICE_AUTH_MASTER_KEY_FILE=$dir/master.key
    fi
    issued=$("$bin/sluice-admin" keys create --name "local admin" --rights '*:rw') || sluice_die "sluice-admin could not create a key"
    SLUICE_KEY_ID=$(printf '%s' "$issued" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')
    SLUICE_KEY_SECRET=$(printf '%s' "$issued" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
    export SLUICE_KEY_ID SLUICE_KEY_SECRET
    (umask 077 && printf '{"key_id": "%s", "secret": "%s"}\n' "$SLUICE_KEY_ID" "$SLUICE_KEY_SECRET" >"$dir/admin-key.json")
    sluice_log "auth required: key $SLUICE_KEY_ID (rights *:rw) written to $dir/admin-key.json"
}

sluice_start_service() {
    local bin=$1 dir=$2 name=$3 port=$4 waited=0 pid
    "$bin/sluice-$name" >"$dir/$name.log" 2>&1 &
    pid=$!
    SLUICE_PIDS+=("$pid")
    SLUICE_NAMES+=("$name")
    until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/$name.log" >&2; sluice_die "$name exited; see $dir/$name.log"; }
        sleep 0.2
        waited=$((waited + 1))
        [ $waited -lt 300 ] || sluice_die "$name did not become healthy within 60 s; see $dir/$name.log"
    done
    sluice_log "$name ready on http://127.0.0.1:$port"
}

# A writer is ready once its consumer group gave it partitions (a few seconds after it starts); until
# then a POST is accepted but not yet stored, which would surprise whoever tries the stack first.
sluice_wait_for_writer_assignment() {
    local port=$1 waited=0
    until curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -qE '^sluice_writer_assigned_partitions [1-9]'; do
        sleep 0.2
        waited=$((waited + 1))
        [ $waited -lt 300 ] || sluice_die "the writer held no Kafka partitions within 60 s"
    done
    sluice_log "writer holds its Kafka partitions"
}

# Stops what sluice_start_stack started, services first (SIGTERM: they flush and exit 0).
sluice_stop_stack() {
    local i
    for ((i = ${#SLUICE_PIDS[@]} - 1; i >= 0; i--)); do sluice_stop_process "${SLUICE_PIDS[$i]}" "${SLUICE_NAMES[$i]}"; done
    SLUICE_PIDS=()
    [ -n "${SLUICE_BROKER_PID:-}" ] && sluice_stop_process "$SLUICE_BROKER_PID" "local broker"
    SLUICE_BROKER_PID=""
    if [ -n "${SLUICE_STACK_DIR:-}" ]; then
        sluice_stop_postgres "$SLUICE_STACK_DIR/pg"
        # A scratch run's database can be gigabytes; its logs stay beside it. SLUICE_KEEP_DATA=1 keeps it.
        if [ "${SLUICE_SCRATCH_DATA:-0}" = 1 ] && [ "${SLUICE_KEEP_DATA:-0}" != 1 ]; then rm -rf "$SLUICE_STACK_DIR/pg/data"; fi
    fi
    return 0
}
