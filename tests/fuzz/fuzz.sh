#!/bin/sh
# tests/fuzz/fuzz.sh: builds and runs the libFuzzer targets of tests/fuzz.
#
#   sh tests/fuzz/fuzz.sh build            compile every target
#   sh tests/fuzz/fuzz.sh run SECONDS [T]  replay each target's findings
#                                          (tests/data/fuzz/T/), then fuzz it
#                                          for SECONDS from its seed corpus
#                                          (tests/fuzz/corpus/T/); T: only
#                                          these targets
#   sh tests/fuzz/fuzz.sh probe SECONDS    fuzz libfcgi alone (no walker),
#                                          going on after crashes; sort the
#                                          crash inputs by kind and check
#                                          that the walker refuses each
#
# `make fuzz` (FUZZ_SECONDS) and tests/fuzz/ci.sh call it from a build
# directory configured with --enable-fuzz, which passes what configure found
# in the environment: FUZZ_CC (clang), PYTHON_CFLAGS, PYTHON_LIBS,
# PTHREAD_CFLAGS, PTHREAD_LIBS, FCGI_CFLAGS, FCGI_LIBS, and srcdir (the
# source tree) and builddir (where autoconfig.h is; the current directory
# by default).  Everything built goes under $builddir/tests/fuzz/.
#
# The sources of src/ are compiled with clang, ASan, UBSan and libFuzzer's
# coverage; each target links them with libFuzzer.  fuzz_fcgi_libfcgi links
# an instrumented libfcgi, built by build-libfcgi.sh into
# $builddir/tests/fuzz/libfcgi (skipped, with the reason, when that cannot
# be had).
#
# A run prints one line per target, "fuzz_T: PASS (N execs, S s, cov C)" or
# "fuzz_T: FAIL ...", and "fuzz targets: N passed, N failed[, N skipped]" last; the
# exit status is 1 when a target failed.  A crash's input is left in
# $builddir/tests/fuzz/crashes/T/.

set -u

TARGETS="scgi fcgi_walk fcgi_mgmt fcgi_libfcgi response environ numbers config acl"

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
builddir=$(cd "${builddir:-.}" && pwd)
out=$builddir/tests/fuzz
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN -fsanitize=fuzzer-no-link"
WARN="-Wall -Wno-unused-parameter -Wno-missing-field-initializers -Wno-unused-function"
INC="-I$builddir -I$srcdir/src -I$srcdir/tests/fuzz"

say() { echo "fuzz.sh: $*"; }

# Recompiles $2 into $1 when the source or a header of src/ is newer.
compile() {
    c_obj=$1
    c_src=$2
    shift 2
    if [ -f "$c_obj" ] && [ "$c_obj" -nt "$c_src" ] && [ -z "$(find "$srcdir/src" "$srcdir/tests/fuzz" \
        "$builddir/autoconfig.h" -name '*.h' -newer "$c_obj" 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS $WARN $INC "$@" -c "$c_src" -o "$c_obj" || return 1
}

LIBFCGI=$out/libfcgi
LIBFCGI_WHY=

build() {
    mkdir -p "$out/obj" "$out/obj-libfcgi" "$out/bin"
    objs=""
    for f in "$srcdir"/src/*.c; do
        b=$(basename "$f" .c)
        [ "$b" = main ] && continue
        # shellcheck disable=SC2086
        compile "$out/obj/$b.o" "$f" $PYTHON_CFLAGS $FCGI_CFLAGS $PTHREAD_CFLAGS || return 1
        objs="$objs $out/obj/$b.o"
    done
    rm -f "$out/libwsgifcgi-fuzz.a"
    # shellcheck disable=SC2086
    ar rcs "$out/libwsgifcgi-fuzz.a" $objs || return 1

    # The instrumented libfcgi, and the src/ objects against its headers.
    if [ ! -f "$LIBFCGI/libfcgi-fuzz.a" ] || [ "${FUZZ_REBUILD_LIBFCGI:-0}" = 1 ]; then
        FUZZ_CC=$CC sh "$srcdir/tests/fuzz/build-libfcgi.sh" "$LIBFCGI" > "$out/build-libfcgi.log" 2>&1
        rc=$?
        [ $rc = 0 ] || LIBFCGI_WHY=$(tail -n 1 "$out/build-libfcgi.log")
    fi
    [ -f "$LIBFCGI/libfcgi-fuzz.a" ] || LIBFCGI_WHY=${LIBFCGI_WHY:-no instrumented libfcgi}

    for t in $TARGETS; do
        src=$srcdir/tests/fuzz/fuzz_$t.c
        bin=$out/bin/fuzz_$t
        case $t in
        fcgi_libfcgi)
            if [ -n "$LIBFCGI_WHY" ]; then
                say "fuzz_$t not built: $LIBFCGI_WHY"
                rm -f "$bin"
                continue
            fi
            lobjs=""
            for f in "$srcdir"/src/*.c; do
                b=$(basename "$f" .c)
                case $b in main|dispatch) continue ;; esac
                # shellcheck disable=SC2086
                compile "$out/obj-libfcgi/$b.o" "$f" -I"$LIBFCGI/include" $PYTHON_CFLAGS \
                    $PTHREAD_CFLAGS || return 1
                lobjs="$lobjs $out/obj-libfcgi/$b.o"
            done
            rm -f "$out/libwsgifcgi-libfcgi.a"
            # shellcheck disable=SC2086
            ar rcs "$out/libwsgifcgi-libfcgi.a" $lobjs || return 1
            # shellcheck disable=SC2086
            compile "$out/obj-libfcgi/fuzz_$t.o" "$src" -I"$LIBFCGI/include" -I"$srcdir/src" \
                $PYTHON_CFLAGS $PTHREAD_CFLAGS || return 1
            # shellcheck disable=SC2086
            $CC $SAN -fsanitize=fuzzer "$out/obj-libfcgi/fuzz_$t.o" "$out/libwsgifcgi-libfcgi.a" \
                "$LIBFCGI/libfcgi-fuzz.a" -Wl,--wrap=OS_Read $PYTHON_LIBS $PTHREAD_LIBS \
                -o "$bin" || return 1
            ;;
        *)
            # shellcheck disable=SC2086
            compile "$out/obj/fuzz_$t.o" "$src" $PYTHON_CFLAGS $FCGI_CFLAGS $PTHREAD_CFLAGS || return 1
            # shellcheck disable=SC2086
            $CC $SAN -fsanitize=fuzzer "$out/obj/fuzz_$t.o" "$out/libwsgifcgi-fuzz.a" $PYTHON_LIBS \
                $FCGI_LIBS $PTHREAD_LIBS -o "$bin" || return 1
            ;;
        esac
    done
    # The probe of libfcgi alone (not a target: it crashes by design).
    if [ -z "$LIBFCGI_WHY" ]; then
        # shellcheck disable=SC2086
        compile "$out/obj-libfcgi/fuzz_libfcgi_alone.o" "$srcdir/tests/fuzz/fuzz_libfcgi_alone.c" \
            -I"$LIBFCGI/include" || return 1
        $CC $SAN -fsanitize=fuzzer "$out/obj-libfcgi/fuzz_libfcgi_alone.o" "$out/obj/fcgi_walk.o" \
            "$LIBFCGI/libfcgi-fuzz.a" -o "$out/bin/fuzz_libfcgi_alone" || return 1
    fi
    say "built in $out/bin"
}

# probe SECONDS: fuzzes libfcgi alone, going on after crashes; then sorts the
# crash inputs by what libfcgi did and says what our walker makes of each.
probe() {
    secs=$1
    build || return 1
    bin=$out/bin/fuzz_libfcgi_alone
    dir=$out/crashes/libfcgi_alone
    [ -x "$bin" ] || { say "the probe is not built: $LIBFCGI_WHY"; return 1; }
    mkdir -p "$dir" "$out/corpus/libfcgi_alone" "$out/log"
    log=$out/log/fuzz_libfcgi_alone.log
    # The seeds one by one first: fork mode leaves out those that crash.
    for f in "$srcdir"/tests/fuzz/corpus/libfcgi_alone/*; do
        if ! ASAN_OPTIONS=detect_leaks=0 "$bin" "$f" > /dev/null 2>&1; then
            cp "$f" "$dir/seed-$(basename "$f")"
        fi
    done
    ASAN_OPTIONS=detect_leaks=0 "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=65536 \
        -artifact_prefix="$dir/" "$out/corpus/libfcgi_alone" "$srcdir/tests/fuzz/corpus/libfcgi_alone" \
        > "$log" 2>&1
    execs=$(grep -oE '#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    n=0 holes=0
    : > "$out/log/probe-kinds"
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        kind=$(ASAN_OPTIONS=detect_leaks=0 "$bin" -malloc_limit_mb=256 "$f" 2>&1 | grep -m 1 -oE \
            'Assertion .*failed|stack smashing detected|AddressSanitizer: [a-z-]+|runtime error: .*|out-of-memory \(malloc\([0-9]+\)\)|ERROR: libFuzzer: [a-z-]+|deadly signal' \
            | sed -E 's/0x[0-9a-f]+/0x.../g; s/[0-9]{4,}/N/g')
        behind=$(ASAN_OPTIONS=detect_leaks=0 FUZZ_VERDICT=1 "$bin" -malloc_limit_mb=256 "$f" 2>&1)
        walker=$(echo "$behind" | sed -n 's/^walker: //p' | head -n 1)
        if echo "$behind" | grep -qE 'Assertion .*failed|stack smashing|AddressSanitizer|runtime error|out-of-memory|deadly signal'; then
            holes=$((holes + 1))
            echo "HOLE: $f: libfcgi still crashes behind the walker ($walker)"
        fi
        echo "${kind:-no crash on replay} | walker: $(echo "$walker" | sed 's/ at byte [0-9]* of [0-9]*; [0-9]* bytes reach libfcgi//')" \
            >> "$out/log/probe-kinds"
    done
    sort "$out/log/probe-kinds" | uniq -c | sort -rn
    echo "probe: ${execs:-?} execs of libfcgi alone in $secs s, $n crash inputs, $holes let through by the walker"
    [ "$holes" = 0 ]
}

# run_one T SECONDS: prints the target's line; 0 pass, 1 fail, 2 skipped.
run_one() {
    t=$1
    secs=$2
    bin=$out/bin/fuzz_$t
    log=$out/log/fuzz_$t.log
    crashes=$out/crashes/$t
    corpus=$out/corpus/$t
    if [ ! -x "$bin" ]; then
        echo "fuzz_$t: SKIP (not built${LIBFCGI_WHY:+: $LIBFCGI_WHY})"
        return 2
    fi
    mkdir -p "$out/log" "$crashes" "$corpus"
    # Leaks are reported by the targets that run Python only through the
    # suppressions that libpython needs.
    ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp:print_suppressions=0"
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
    : > "$log"
    # The findings of the past first, each input once.
    if [ -d "$srcdir/tests/data/fuzz/$t" ]; then
        if ! "$bin" -runs=1 "$srcdir"/tests/data/fuzz/"$t"/* >> "$log" 2>&1; then
            echo "fuzz_$t: FAIL (a past finding, tests/data/fuzz/$t/, fails again; log $log)"
            return 1
        fi
    fi
    dict=
    [ -f "$srcdir/tests/fuzz/fuzz_$t.dict" ] && dict=-dict=$srcdir/tests/fuzz/fuzz_$t.dict
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes/" $dict \
        "$corpus" "$srcdir/tests/fuzz/corpus/$t" >> "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //')
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ $rc = 0 ]; then
        echo "fuzz_$t: PASS (${execs:-?} execs, $secs s, ${speed:-?}/s, cov ${cov:-?})"
        return 0
    fi
    echo "fuzz_$t: FAIL (exit $rc after ${execs:-?} execs; input in $crashes/; log $log)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' "$log" | head -n 3 | sed 's/^/    | /'
    return 1
}

run() {
    secs=$1
    shift
    only=${*:-$TARGETS}
    build || { echo "fuzz targets: 0 passed, 1 failed (the build failed)"; return 1; }
    pass=0 fail=0 skip=0
    for t in $only; do
        run_one "$t" "$secs"
        case $? in
        0) pass=$((pass + 1)) ;;
        2) skip=$((skip + 1)) ;;
        *) fail=$((fail + 1)) ;;
        esac
    done
    line="fuzz targets: $pass passed, $fail failed"
    [ $skip -gt 0 ] && line="$line, $skip skipped"
    echo "$line"
    [ $fail = 0 ]
}

cmd=${1:-}
case $cmd in
build) build ;;
probe)
    [ $# -ge 2 ] || { echo "usage: $0 probe SECONDS" >&2; exit 2; }
    probe "$2"
    ;;
run)
    [ $# -ge 2 ] || { echo "usage: $0 run SECONDS [TARGET...]" >&2; exit 2; }
    shift
    run "$@"
    ;;
*)
    echo "usage: $0 build | run SECONDS [TARGET...] | probe SECONDS" >&2
    exit 2
    ;;
esac
