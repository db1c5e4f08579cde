#!/usr/bin/env bash
# tests/fuzz/ci.sh: the CI fuzz stage (tests/run-all.sh runs it).
#
#   bash tests/fuzz/ci.sh
#
# Configures build/fuzz (--enable-fuzz --enable-werror), builds the product,
# then runs every libFuzzer target for FUZZ_SECONDS (default 20: about
# 3 min for the nine) after replaying its past findings
# (tests/data/fuzz/<target>/), and the black-box fuzzer
# (tests/fuzz/blackbox.py) for BLACKBOX_INPUTS mutated FastCGI and SCGI
# inputs (default 20000) against the binary just built.  Each target and
# the black-box run count as one test; the last line is
#
#   fuzz: N passed, N failed[, N skipped]
#
# A target that cannot be built here (no clang or libFuzzer runtime, no
# libfcgi source for fuzz_fcgi_libfcgi) is skipped with its reason.

set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
B=$ROOT/build/fuzz
SECS=${FUZZ_SECONDS:-20}
INPUTS=${BLACKBOX_INPUTS:-20000}
pass=0 fail=0 skip=0

finish() {
    local line="fuzz: $pass passed, $fail failed"
    [ "$skip" -gt 0 ] && line="$line, $skip skipped"
    echo "$line"
    [ "$fail" = 0 ]
    exit
}

[ -x "$ROOT/configure" ] || (autoreconf -fi >/dev/null 2>&1) || { echo "autoreconf failed"; fail=1; finish; }
mkdir -p "$B"
if ! (cd "$B" && "$ROOT/configure" --enable-werror > configure.out 2>&1 && make -j"${JOBS:-2}" > make.out 2>&1); then
    echo "fuzz: the build in $B failed (see $B/configure.out, $B/make.out)"
    fail=1
    finish
fi

if grep -q '^WF_FUZZ = yes' "$B/Makefile"; then
    out=$(cd "$B" && make fuzz FUZZ_SECONDS="$SECS" 2>&1)
    echo "$out"
    p=$(echo "$out" | sed -nE 's/^fuzz targets: ([0-9]+) passed.*/\1/p')
    f=$(echo "$out" | sed -nE 's/^fuzz targets: [0-9]+ passed, ([0-9]+) failed.*/\1/p')
    k=$(echo "$out" | sed -nE 's/^fuzz targets: .* ([0-9]+) skipped.*/\1/p')
    if [ -z "$p" ]; then
        echo "fuzz: make fuzz ended without its summary line"
        fail=$((fail + 1))
    else
        pass=$((pass + p))
        fail=$((fail + f))
        skip=$((skip + ${k:-0}))
    fi
else
    echo "fuzz targets: SKIP ($(sed -n 's/^WF_FUZZ_WHY = //p' "$B/Makefile"))"
    skip=$((skip + 1))
fi

python=$(sed -n 's/^PYTHON = //p' "$B/Makefile")
if WSGI_FCGI=$B/src/wsgi-fcgi "${python:-python3}" "$ROOT/tests/fuzz/blackbox.py" --inputs "$INPUTS" \
    --max-seconds 240 > "$B/blackbox.out" 2>&1; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    tail -n 30 "$B/blackbox.out" | sed 's/^/    | /'
fi
grep -E '^blackbox: ' "$B/blackbox.out" || echo "blackbox: no summary (see $B/blackbox.out)"
finish
