#!/usr/bin/env bash
# Apache Kafka 4.x, one combined broker+controller in KRaft mode, on loopback.
#
#   xtask/stack/kafka.sh fetch                   only fetch the jars (prints their dir)
#   xtask/stack/kafka.sh start  <dir>            format + start; prints the bootstrap address
#   xtask/stack/kafka.sh stop   <dir>
#   xtask/stack/kafka.sh restart <dir>           stop, then start the same broker again: same
#                                                ports, same data (topics, offsets, records)
#   xtask/stack/kafka.sh status <dir>            prints the bootstrap address if running
#   xtask/stack/kafka.sh topics <dir> ARGS...    kafka-topics, e.g. --create --topic t --partitions 1
#   xtask/stack/kafka.sh consume <dir> ARGS...   console consumer, e.g. --topic t --from-beginning --max-messages 1
#   xtask/stack/kafka.sh produce <dir> ARGS...   console producer, reads stdin, e.g. --topic t
#   xtask/stack/kafka.sh groups <dir> ARGS...    kafka-consumer-groups, e.g. --describe --all-groups
#
# Maven Central has no Kafka tarball, only the jars: a throw-away pom pulls
# kafka_2.13 + kafka-tools with all runtime deps into one lib dir under $CACHE.
# KAFKA_PORT picks the broker port (default: a free one). State is in <dir>.
# Dapr's pubsub.kafka needs its `version` metadata set (we use "3.6.0") against
# Kafka 4: with sarama's default (2.0.0) publishing works but nothing is consumed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE="${TODO_STACK_CACHE:-$HOME/.cache/todo-stack}"
LIB="$CACHE/kafka-$KAFKA_VERSION/lib"
# Small heap; serial GC and C1 only make the short-lived CLI tools start faster.
SERVER_JVM=(-Xms256m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true)
TOOL_JVM=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true)

fetch_jars() {
  [[ -f "$LIB/.complete" ]] && return
  # Concurrent starts: one fetches, the others wait (lock held only in the subshell).
  mkdir -p "$CACHE"
  ( flock 9; if [[ ! -f "$LIB/.complete" ]]; then mvn_fetch; fi ) 9>"$CACHE/.kafka-fetch.lock"
}

mvn_fetch() {
  command -v mvn >/dev/null || bash "$HERE/packages.sh" maven
  local d="$CACHE/kafka-$KAFKA_VERSION"
  mkdir -p "$d"
  cat > "$d/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-jars</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka logs through slf4j 1.7 and ships log4j2; this is the binding between them
         (the release tarball bundles it, the POMs do not) -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.5</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$LIB"
  mvn -B -f "$d/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB" > "$d/mvn.log" 2>&1 \
    || { tail -40 "$d/mvn.log" >&2; exit 1; }
  touch "$LIB/.complete"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [[ -f "$1/kafka.pid" ]] && kill -0 "$(cat "$1/kafka.pid")" 2>/dev/null; }
tool() { local d=$1 cls=$2; shift 2; fetch_jars
  exec java "${TOOL_JVM[@]}" -Dlog4j2.configurationFile="$d/log4j2-tools.properties" -cp "$LIB/*" "$cls" --bootstrap-server "$(cat "$d/bootstrap")" "$@"; }

stop_broker() { local d=$1
  if running "$d"; then
    local pid; pid=$(cat "$d/kafka.pid"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$d/kafka.pid"
}

# Starts the broker of <dir> (formatted, with server.properties and bootstrap)
# and waits until it serves; prints the bootstrap address.
launch() { local d=$1 t0 port
  t0=$(date +%s.%N)
  port=$(cut -d: -f2 < "$d/bootstrap")
  [[ -f "$d/kafka.log" ]] && mv "$d/kafka.log" "$d/kafka.log.prev"
  nohup java "${SERVER_JVM[@]}" -Dlog4j2.configurationFile="$d/log4j2-server.properties" \
    -cp "$LIB/*" kafka.Kafka "$d/server.properties" \
    > "$d/kafka.log" 2>&1 < /dev/null &
  echo $! > "$d/kafka.pid"
  # Ready = the broker listener accepts and the server logged that startup is done.
  ready() { port_open "$port" && grep -q 'Kafka Server started' "$d/kafka.log"; }
  for _ in $(seq 1 120); do
    running "$d" || { tail -50 "$d/kafka.log" >&2; echo "kafka died" >&2; exit 1; }
    ready && break
    sleep 0.5
  done
  ready || { tail -50 "$d/kafka.log" >&2; echo "kafka did not start in 60s" >&2; exit 1; }
  echo "kafka up in $(python3 -c "print(round($(date +%s.%N)-$t0,1))")s" >&2
  cat "$d/bootstrap"
}

# `kafka.sh fetch`: only the jars (the test command fetches them early).
if [[ ${1:-} == fetch ]]; then fetch_jars; echo "$LIB"; exit 0; fi
cmd=${1:?usage: kafka.sh fetch|start|stop|restart|status|topics|consume|produce <dir> ...}
dir=${2:?missing <dir>}; shift 2
case "$cmd" in
start)
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if running "$dir"; then cat "$dir/bootstrap"; exit 0; fi
  fetch_jars
  port=${KAFKA_PORT:-$(free_port)}; cport=$(free_port)
  rm -rf "$dir/data"   # every start is a fresh, empty cluster
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
# single node: internal topics cannot have more than one replica
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# tests want the first consumer to join at once, not after 3s
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  for f in server tools; do
    lvl=INFO; [[ $f == tools ]] && lvl=WARN
    printf '%s\n' "rootLogger.level=$lvl" "rootLogger.appenderRef.o.ref=o" "appender.o.type=Console" \
      "appender.o.name=o" "appender.o.target=SYSTEM_ERR" "appender.o.layout.type=PatternLayout" \
      "appender.o.layout.pattern=[%d] %p %m (%c)%n" > "$dir/log4j2-$f.properties"
  done
  # KRaft storage must be formatted with a cluster id (22-char url-safe base64
  # of a UUID). One starting with `-` would be read as an option: draw again.
  cid=$(python3 -c '
import uuid, base64
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not cid.startswith("-"):
        print(cid)
        break')
  java "${TOOL_JVM[@]}" -Dlog4j2.configurationFile="$dir/log4j2-tools.properties" -cp "$LIB/*" \
    kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" > "$dir/format.log" 2>&1 \
    || { cat "$dir/format.log" >&2; exit 1; }
  echo "127.0.0.1:$port" > "$dir/bootstrap"
  launch "$dir"
  ;;
restart)
  [[ -d "$dir" ]] && dir=$(cd "$dir" && pwd)
  [[ -f "$dir/server.properties" && -f "$dir/bootstrap" && -d "$dir/data" ]] \
    || { echo "no broker to restart in $dir (run start first)" >&2; exit 1; }
  stop_broker "$dir"
  fetch_jars
  launch "$dir"
  ;;
stop) stop_broker "$dir" ;;
status) running "$dir" && cat "$dir/bootstrap" || { echo stopped; exit 1; } ;;
topics)  tool "$dir" org.apache.kafka.tools.TopicCommand "$@" ;;
consume) tool "$dir" org.apache.kafka.tools.consumer.ConsoleConsumer "$@" ;;
produce) tool "$dir" org.apache.kafka.tools.ConsoleProducer "$@" ;;
groups)  tool "$dir" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
