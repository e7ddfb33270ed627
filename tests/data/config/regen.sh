#!/bin/sh
# Regenerates *.expected from Java ZooKeeper 3.8's own QuorumPeerConfig (Debian's zookeeper.jar).
# Run from anywhere: sh tests/data/config/regen.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(mktemp -d)
CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar
javac -d "$build" -cp $CP "$root/compat-tests/java/ParseConfig.java"
cd "$here"
for cfg in *.cfg; do
    flags=$(sed -n '1s/^# jvmflags: //p' "$cfg")
    # shellcheck disable=SC2086
    java $flags -cp "$CP:$build" ParseConfig "$cfg" > "${cfg%.cfg}.expected"
done
rm -rf "$build"
