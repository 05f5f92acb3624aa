#!/usr/bin/env bash
# Runs the JMH benchmarks (default: all; pass a JMH regex and options to narrow, e.g.
#   ci/bench-jmh.sh Downcall -f 1 -wi 3 -i 5
# ). Builds first. Not part of CI: results go to BENCHMARKS.md by hand, with the command.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
mvn -B -q -ntp package -DskipTests -pl cli -am >&2
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "cli/target/lib/*" org.openjdk.jmh.Main "$@"
