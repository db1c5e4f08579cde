#!/usr/bin/env bash
# tests/run-all.sh: the one command that runs every test of wsgi-fcgi.
#
#   bash tests/run-all.sh
#
# What it does, in order:
#   1. as root, installs the Debian packages the build and the tests need
#      (apt-get is idempotent; nothing happens when they are all present);
#   2. autoreconf -fi in the source tree;
#   3. build/normal: configure --enable-werror, make check, then make distcheck
#      (counted as one test);
#   4. build/sanitizers: configure --enable-sanitizers --enable-werror,
#      make check under AddressSanitizer and UndefinedBehaviorSanitizer;
#   5. tests/python-matrix.sh: configure, build and a set of tests against
#      every CPython 3.10-3.13 on the machine (Debian's, pyenv's), one line
#      per version; each version counts as one test;
#   6. tests/deb-check.sh: builds the Debian package in a copy of the tree,
#      lintian, apt-get install, the example app from /usr/bin/wsgi-fcgi
#      behind nginx, apt-get remove --purge; each step counts as one test;
#   7. tests/fuzz/ci.sh: build/fuzz, every libFuzzer target for 20 s after
#      replaying its past findings, and a 20,000-input black-box run of the
#      binary; each target and the black-box run count as one test;
#   8. prints, for each build, the automake and Check summaries and the tail of
#      the log of every failed test, the lines of stages 5 to 7 with their
#      time, then one line "N passed, N failed" (plus ", N skipped" when some
#      were skipped) summed over everything.
#
# A failure in one build does not stop the other.  The exit status is non-zero
# when anything failed or when no test ran at all.
#
# Environment: JOBS (parallel make jobs, default 2), SKIP_APT=1 (never call
# apt-get), SKIP_DISTCHECK=1, SKIP_SANITIZERS=1, SKIP_PYMATRIX=1, SKIP_DEB=1,
# SKIP_FUZZ=1 (quicker local runs).

set -u -o pipefail

PACKAGES="build-essential autoconf automake autoconf-archive pkg-config \
libfcgi-dev libfcgi-bin python3-dev check nginx spawn-fcgi curl valgrind \
python3-flask python3-django python3-bottle python3-radicale lighttpd apache2 libapache2-mod-fcgid \
procps iproute2 ca-certificates systemd \
debhelper dh-autoreconf dpkg-dev fakeroot lintian clang libclang-rt-14-dev"

JOBS=${JOBS:-2}

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

say() { printf '\n=== %s\n' "$*"; }

# ---- 1. packages -------------------------------------------------------------
install_packages() {
    [ "$(id -u)" = 0 ] || return 0
    [ "${SKIP_APT:-0}" = 1 ] && return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    local missing="" p
    for p in $PACKAGES; do
        grep -q 'install ok installed' <<< "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # The tests start their own nginx, lighttpd and Apache on free loopback
    # ports; the packages' own services must not start on port 80.
    # The policy file is removed again afterwards, so later service starts on
    # this machine are not affected.
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d &&
            made_policy=1
    fi
    # shellcheck disable=SC2086
    apt-get update </dev/null &&
        apt-get install -y --no-install-recommends $PACKAGES </dev/null ||
        echo "run-all.sh: warning: apt-get failed; continuing with what is installed" >&2
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

# ---- bookkeeping -----------------------------------------------------------------
TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0
TOTAL_RAN=0     # tests the automake harness ran (TOTAL lines)
SUMMARY=""      # text printed at the end

add_summary() { SUMMARY="$SUMMARY$*"$'\n'; }
FAILURES=""     # the failed checks of failed tests, printed last (a log viewer
                # that keeps only the head and tail of the output still shows them)
add_failure() { FAILURES="$FAILURES$*"$'\n'; }

# Value of "# NAME: n" in an automake test-suite.log (0 when absent).
suite_count() {
    local n
    n=$(sed -n "s/^# $1: *\([0-9][0-9]*\).*/\1/p" "$2" 2>/dev/null | head -n 1)
    echo "${n:-0}"
}

# summarize NAME BUILDDIR STEP_STATUS
#   STEP_STATUS is "ok" or the step that failed before the test suite could run.
summarize() {
    local name=$1 dir=$2 status=$3 log="$2/test-suite.log"
    add_summary "---- $name build ($dir)"
    if [ ! -f "$log" ]; then
        add_summary "  no test-suite.log: $status failed (see $dir/$status.out)"
        if [ -f "$dir/$status.out" ]; then
            add_summary "$(tail -n 30 "$dir/$status.out" | sed 's/^/    | /')"
        fi
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
        return
    fi
    local total pass skip xfail fail xpass error
    total=$(suite_count TOTAL "$log"); pass=$(suite_count PASS "$log")
    skip=$(suite_count SKIP "$log");   xfail=$(suite_count XFAIL "$log")
    fail=$(suite_count FAIL "$log");   xpass=$(suite_count XPASS "$log")
    error=$(suite_count ERROR "$log")
    add_summary "$(grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' "$log" | sed 's/^/  /')"
    if [ -f "$dir/tests/check_wsgi_fcgi.log" ]; then
        add_summary "  Check: $(grep -E '^[0-9]+%: Checks: ' "$dir/tests/check_wsgi_fcgi.log" | paste -sd ' ' -)"
    fi
    TOTAL_PASS=$((TOTAL_PASS + pass + xfail))
    TOTAL_FAIL=$((TOTAL_FAIL + fail + error + xpass))
    TOTAL_SKIP=$((TOTAL_SKIP + skip))
    TOTAL_RAN=$((TOTAL_RAN + total))
    if [ "$total" = 0 ]; then
        add_summary "  no tests ran in this build"
    fi
    if [ "$status" != ok ] && [ $((fail + error + xpass)) = 0 ]; then
        # make check failed although no test did (e.g. a check program did not build).
        add_summary "  $status failed without a failed test (see $dir/$status.out)"
        add_summary "$(tail -n 30 "$dir/$status.out" | sed 's/^/    | /')"
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
    fi
    local trs t
    while IFS= read -r trs; do
        if grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
            t=${trs%.trs}
            add_summary "  FAILED: ${t#"$dir"/} ($(sed -n 's/^:test-result: //p' "$trs" | sort -u | paste -sd ' ' -))"
            if [ -f "$t.log" ]; then
                add_summary "$(tail -n 40 "$t.log" | sed 's/^/    | /')"
                add_failure "  $name: ${t#"$dir"/}"
                add_failure "$(grep -E -A3 '^(FAIL|ERROR|Traceback)' "$t.log" | head -n 40 | sed 's/^/    | /')"
            fi
        elif grep -q '^:test-result: SKIP' "$trs"; then
            t=${trs%.trs}
            add_summary "  skipped: ${t#"$dir"/}"
        fi
    done < <(find "$dir" -name '*.trs' -not -path '*/_build/*' | sort)
}

# build NAME CONFIGURE_FLAGS... ; runs configure, make and make check.
# Sets BUILD_STATUS to "ok" or the name of the failed step.
build() {
    local name=$1; shift
    local dir="$ROOT/build/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    BUILD_STATUS=ok
    say "$name: configure $*"
    if ! (cd "$dir" && "$ROOT/configure" "$@") >"$dir/configure.out" 2>&1; then
        tail -n 30 "$dir/configure.out"
        BUILD_STATUS=configure
        return
    fi
    say "$name: make"
    if ! (cd "$dir" && make -j"$JOBS") 2>&1 | tee "$dir/make.out"; then
        BUILD_STATUS="make"
        return
    fi
    say "$name: make check"
    if ! (cd "$dir" && make -j"$JOBS" check) 2>&1 | tee "$dir/check.out"; then
        BUILD_STATUS=check
    fi
}

START=$(date +%s)

if [ -f "$ROOT/config.status" ]; then
    echo "run-all.sh: the source tree is configured in place ($ROOT/config.status);" >&2
    echo "run-all.sh: out-of-tree builds need a clean tree: run 'make distclean' there first" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

install_packages

say "autoreconf -fi"
if ! autoreconf -fi; then
    echo "run-all.sh: autoreconf failed" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- 3. normal build + distcheck ---------------------------------------------------
build normal --enable-werror
summarize normal "$ROOT/build/normal" "$BUILD_STATUS"

if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
    if [ -f "$ROOT/build/normal/Makefile" ]; then
        say "normal: make distcheck"
        if (cd "$ROOT/build/normal" && make -j"$JOBS" distcheck) >"$ROOT/build/normal/distcheck.out" 2>&1; then
            add_summary "  distcheck: PASS"
            TOTAL_PASS=$((TOTAL_PASS + 1))
        else
            add_summary "  distcheck: FAIL (see build/normal/distcheck.out)"
            add_summary "$(tail -n 40 "$ROOT/build/normal/distcheck.out" | sed 's/^/    | /')"
            TOTAL_FAIL=$((TOTAL_FAIL + 1))
        fi
        tail -n 8 "$ROOT/build/normal/distcheck.out"
    else
        add_summary "  distcheck: FAIL (no configured build)"
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
    fi
fi

# ---- 4. sanitizer build ----------------------------------------------------------
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
    # Leak detection stays on; tests/lsan.supp lists the allocations that
    # libpython keeps until process exit (see the comment in that file).
    export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    build sanitizers --enable-sanitizers --enable-werror
    summarize sanitizers "$ROOT/build/sanitizers" "$BUILD_STATUS"
fi

# ---- 5. to 7. the scripts that end with "NAME: N passed, N failed[, N skipped]" --------
# stage NAME SCRIPT PATTERN: runs SCRIPT (output in build/NAME.out), adds its
# counts and the lines matching PATTERN (its results) to the summary.
stage() {
    local name=$1 script=$2 pattern=$3 out="$ROOT/build/$1.out" t0 line p f k
    t0=$(date +%s)
    say "$name: bash $script"
    mkdir -p "$ROOT/build"
    bash "$ROOT/$script" 2>&1 | tee "$out"
    add_summary "---- $name ($script, $(( $(date +%s) - t0 )) s, log build/$name.out)"
    add_summary "$(grep -E "$pattern" "$out" | sed 's/^/  /')"
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -n 1)
    if [ -z "$line" ]; then
        add_summary "  $script ended without its summary line"
        TOTAL_FAIL=$((TOTAL_FAIL + 1))
        return
    fi
    p=$(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    k=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    TOTAL_PASS=$((TOTAL_PASS + p))
    TOTAL_FAIL=$((TOTAL_FAIL + f))
    TOTAL_SKIP=$((TOTAL_SKIP + ${k:-0}))
}

if [ "${SKIP_PYMATRIX:-0}" != 1 ]; then
    stage python-matrix tests/python-matrix.sh '^python |^    (\||FAILED)'
fi
if [ "${SKIP_DEB:-0}" != 1 ]; then
    stage deb-check tests/deb-check.sh '^deb: |^    \| [A-Z]: '
fi
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    stage fuzz tests/fuzz/ci.sh '^fuzz_|^fuzz targets: SKIP|^blackbox: |^    \| '
fi

# ---- 8. summary --------------------------------------------------------------------
END=$(date +%s)
say "summary ($((END - START)) s)"
printf '%s' "$SUMMARY"
echo
if [ -n "$FAILURES" ]; then
    echo "failed checks:"
    printf '%s' "$FAILURES"
    echo
fi
RESULT="$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_SKIP" -gt 0 ] && RESULT="$RESULT, $TOTAL_SKIP skipped"
STATUS=0
if [ "$TOTAL_RAN" -eq 0 ]; then
    echo "run-all.sh: no test ran"
    STATUS=1
fi
[ "$TOTAL_FAIL" -gt 0 ] && STATUS=1
echo "$RESULT"
exit "$STATUS"
