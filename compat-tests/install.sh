#!/usr/bin/env bash
# Installs what the compatibility suites need on a Debian 12 machine, as root, without stdin:
# Java ZooKeeper 3.8.0 + its C tools, a JDK (javac), Curator 5.4 jars, and a Python venv at
# compat-tests/.venv with kazoo and pytest. Idempotent: skips whatever is already in place.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/.venv"
KAZOO_VERSION=2.11.0
export DEBIAN_FRONTEND=noninteractive

PKGS=(default-jdk-headless zookeeper zookeeper-bin libzookeeper-java
  libcurator-client-java libcurator-framework-java libcurator-recipes-java
  libcurator-discovery-java libcurator-test-java netcat-openbsd procps python3-venv)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo -n"; else
      echo "install.sh: need root to install ${missing[*]}" >&2; exit 1; fi
  fi
  $SUDO apt-get update </dev/null
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
  echo "install.sh: Debian packages already installed"
fi

for f in /usr/share/java/zookeeper.jar /usr/share/java/curator-recipes.jar /usr/lib/zookeeper/bin/cli_mt; do
  [ -e "$f" ] || { echo "install.sh: $f missing after install" >&2; exit 1; }
done
command -v javac >/dev/null || { echo "install.sh: javac missing" >&2; exit 1; }

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$KAZOO_VERSION" <<'PY' 2>/dev/null
import sys
import kazoo.version, pytest, puresasl  # noqa: F401
sys.exit(0 if kazoo.version.__version__ == sys.argv[1] else 1)
PY
then
  echo "install.sh: venv ready ($VENV)"
else
  echo "install.sh: creating venv $VENV"
  PY=python3
  [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kazoo==$KAZOO_VERSION" pure-sasl pytest </dev/null
fi
echo "install.sh: done"
