#!/usr/bin/env bash
# Fails if a dependency in Cargo.toml is named nowhere in the code (the check cargo-machete
# does, without installing it): each [dependencies]/[dev-dependencies] crate must appear as
# `name::` or `use name` (dashes as underscores) in src/, tests/, benches/ or build.rs.
# Takes well under a second. A crate used only through a derive or a macro still matches,
# since its path is written out; list true exceptions in ALLOW with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
ALLOW=()
# Crates whose library is named otherwise than the package (Cargo's `[lib] name`).
declare -A LIB=([md-5]=md5)
deps=$(awk '
  /^\[/ { on = ($0 ~ /^\[(dev-|build-)?dependencies\]$/); next }
  on && /^[A-Za-z0-9_-]+[ ]*=/ { sub(/[ ]*=.*/, ""); print }
' Cargo.toml)
dirs=()
for d in src tests benches examples build.rs; do [ -e "$d" ] && dirs+=("$d"); done
unused=()
for dep in $deps; do
  name=${LIB[$dep]:-${dep//-/_}}
  for a in "${ALLOW[@]:-}"; do [ "$a" = "$dep" ] && continue 2; done
  if ! grep -rqE "(\b${name}::|use ${name}\b|extern crate ${name}\b)" "${dirs[@]}"; then
    unused+=("$dep")
  fi
done
if [ ${#unused[@]} -gt 0 ]; then
  echo "unused dependencies in Cargo.toml: ${unused[*]}" >&2
  exit 1
fi
echo "all $(wc -w <<<"$deps") dependencies are used"
