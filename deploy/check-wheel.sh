#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the checkout, and use it as an
# operator would: `shipwatch check`, `shipwatch db upgrade`, a drill, and `shipwatch run`
# until /readyz answers and SIGTERM stops it. Fails on the first thing that does not work.
#
#   deploy/check-wheel.sh            (or: make wheel-check)
#
# Needs python3 with venv, and PyPI (or a mirror pip is configured for): the build
# fetches setuptools, the install the dependencies. PYTHON picks another interpreter.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/shipwatch-wheel.XXXXXX")"
run_pid=""
cleanup() {
  if [ -n "$run_pid" ]; then kill "$run_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '==> %s\n' "$*"; }
fail() {
  printf 'wheel check FAILED: %s\n' "$1" >&2
  if [ $# -gt 1 ] && [ -f "$2" ]; then sed 's/^/    /' "$2" >&2; fi
  exit 1
}

step "copying the checkout (no build/, .venv or caches: a stale build/ would hide a missing file)"
mkdir "$work/source"
tar -C "$root" \
  --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./var \
  --exclude='__pycache__' --exclude='*.egg-info' --exclude='.*_cache' --exclude=.hypothesis \
  --exclude='*.db' --exclude='*.db-*' --exclude=.env \
  -cf - . | tar -C "$work/source" -xf -

step "creating a fresh venv in $work/venv"
"$python" -m venv "$work/venv"
venv="$work/venv/bin"
"$venv/python" -m pip install --quiet --upgrade pip

step "building the wheel"
"$venv/python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/source"
wheel="$(ls "$work"/dist/shipwatch-*.whl)"
echo "    $(basename "$wheel")"

step "installing the wheel and its dependencies"
"$venv/python" -m pip install --quiet "$wheel"

# From here on: outside the checkout, nothing from the caller's SHIPWATCH_* settings or
# PYTHONPATH, a SQLite file of its own.
mkdir "$work/operator"
cd "$work/operator"
unset PYTHONPATH
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SHIPWATCH_' || true)
export SHIPWATCH_DATABASE_URL="sqlite:///$work/operator/shipwatch.db"

installed="$("$venv/python" -c 'import bot; print(bot.__file__)')"
case "$installed" in
  "$work/venv/"*) ;;
  *) fail "the code that runs is $installed, not the installed wheel" ;;
esac

step "shipwatch check"
"$venv/shipwatch" check >check.out 2>&1 || fail "shipwatch check exited $?" check.out
cat check.out
plans="$(find "$root/bot/config/defaults/plans" -name '*.yaml' | wc -l)"
grep -q "is valid: .* $plans release plans\.$" check.out \
  || fail "shipwatch check does not see the $plans shipped release plans" check.out

step "shipwatch db upgrade"
"$venv/shipwatch" db upgrade >upgrade.out 2>&1 || fail "shipwatch db upgrade exited $?" upgrade.out
cat upgrade.out
head="$("$venv/python" -c 'from storage import migrate; print(migrate.head_revision())')"
grep -qF "is at revision $head." upgrade.out \
  || fail "the database is not at the newest migration ($head)" upgrade.out

step "drill: shipwatch console --drill < drills/gray-miniprogram.txt"
"$venv/shipwatch" console --drill <"$root/drills/gray-miniprogram.txt" >drill.out 2>drill.err \
  || fail "the drill exited $?" drill.err
if grep -q Traceback drill.out drill.err; then fail "the drill printed a traceback" drill.err; fi
for expected in \
  "bob promoted miniapp 2.0.0 from 1% to 5% (stage small)." \
  "alice promoted miniapp 2.0.0 from 5% to 20% (stage large)." \
  "Shipwatch rolled miniapp 2.0.0 back from 20% to 0% on its own:" \
  "alice retried miniapp 2.0.0 (attempt 2): back at 1%."; do
  grep -qF "$expected" drill.out || fail "the drill's output lacks: $expected" drill.out
  echo "    ok: $expected"
done

step "shipwatch run: ready, /readyz, SIGTERM"
SHIPWATCH_HTTP_PORT=0 "$venv/shipwatch" run </dev/null >run.out 2>run.log &
run_pid=$!
port=""
for _ in $(seq 1 120); do
  port="$(sed -n 's/.*"event": "shipwatch ready".*"port": \([0-9]*\).*/\1/p' run.log)"
  [ -n "$port" ] && break
  kill -0 "$run_pid" 2>/dev/null || fail "shipwatch run exited before it was ready" run.log
  sleep 0.25
done
[ -n "$port" ] || fail "shipwatch run was not ready within 30 s" run.log
"$venv/python" -c "import sys, urllib.request as r; sys.exit(r.urlopen(sys.argv[1]).status != 200)" \
  "http://127.0.0.1:$port/readyz" || fail "/readyz did not answer 200" run.log
echo "    ready on 127.0.0.1:$port, /readyz 200"
# The status page renders from the templates the wheel carries.
"$venv/python" -c "import sys, urllib.request as r; sys.exit(b'lang=\"en\"' not in r.urlopen(sys.argv[1]).read())" \
  "http://127.0.0.1:$port/status" || fail "/status did not render" run.log
echo "    /status 200"
kill -TERM "$run_pid"
status=0
wait "$run_pid" || status=$?
run_pid=""
[ "$status" = 0 ] || fail "shipwatch run exited $status after SIGTERM" run.log
grep -q '"event": "shipwatch stopped"' run.log || fail "shipwatch run did not log its stop" run.log
echo "    stopped cleanly"

echo "wheel check passed: $(basename "$wheel") installs and runs outside the checkout"
