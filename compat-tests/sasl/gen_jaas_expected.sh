#!/usr/bin/env bash
# Records how the JDK parses each tests/data/jaas/*.conf (JaasParse.java) into NAME.expected;
# the sections asked for are the names ruzk's cargo test looks up: Server, Client, A, Empty,
# "Quoted Name". Rerun after adding a file; the cargo test compares ruzk's parser with these.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/../../tests/data/jaas"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
javac -d "$BUILD" "$HERE/JaasParse.java"
for f in "$DATA"/*.conf; do
  java -cp "$BUILD" JaasParse "$f" Server Client A Empty "Quoted Name" >"${f%.conf}.expected"
done
