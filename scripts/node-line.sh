#!/usr/bin/env bash
# Usage: scripts/node-line.sh <major> [command...]   (default command: npm test)
# Runs the command with Node <major> first on PATH: the machine's own node when it is that line,
# otherwise the npm registry's `node` package, installed once under ~/.cache/nodes/<major>,
# outside the repository. One `npm ci` serves every line: the dependencies are plain JavaScript.
set -euo pipefail
major=${1:?usage: scripts/node-line.sh <major> [command...]}
shift
[ $# -gt 0 ] || set -- npm test

if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]; then
  dir="${NODE_LINES_CACHE:-$HOME/.cache/nodes}/$major"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "node@$major" >/dev/null)
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
fi
echo "# Node $(node --version)" >&2
exec "$@"
