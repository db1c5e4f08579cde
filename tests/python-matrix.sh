#!/usr/bin/env bash
# tests/python-matrix.sh: build and test wsgi-fcgi against every CPython
# 3.10-3.13 on this machine.
#
#   bash tests/python-matrix.sh
#
# The interpreters: Debian's /usr/bin/python3.11 and every 3.x that
# "pyenv versions" lists, at $(pyenv root)/versions/V/bin/pythonX.Y.  For each
# (two at a time, in build/pymatrix/NAME):
#   ./configure --enable-werror --with-python=PATH && make
#   make check TESTS="$MATRIX_TESTS"
# and "wsgi-fcgi --version" must name PATH.  One more cell links the newest
# pyenv interpreter's static libpython.a (configure's wf_cv_python_shared=no),
# the path a Python built without --enable-shared takes.  Each interpreter of
# $MATRIX_REFUSED is given to configure, which must refuse it with one line.
#
# Output: one line per Python version, e.g.
#   python 3.12.1 (/root/.pyenv/versions/3.12.1/bin/python3.12): 4 passed, 0 failed (Check: 158 checks), 35 s
#   python 3.9: skipped (not present)
# then "python-matrix: N passed, N failed, N skipped", counting versions.
# Exit status 1 when a version failed.
#
# Environment: MATRIX_JOBS (cells at once, default 2), MATRIX_CELL_TIMEOUT
# (seconds per cell, default 300), MATRIX_DEADLINE (seconds for the whole run,
# default 540; a cell not started by then is reported as skipped).

# The tests run against each interpreter: the Check unit tests, the FastCGI
# protocol tests, the CGI tests and a framework-free nginx round trip.
MATRIX_TESTS="tests/check_wsgi_fcgi tests/t-protocol.py tests/t-cgi.py tests/t-nginx.py"
# The versions that must be tested when present, and those configure refuses.
MATRIX_VERSIONS="3.10 3.11 3.12 3.13"
MATRIX_REFUSED="3.8 3.9"

set -u -o pipefail

MATRIX_JOBS=${MATRIX_JOBS:-2}
MATRIX_CELL_TIMEOUT=${MATRIX_CELL_TIMEOUT:-300}
MATRIX_DEADLINE=${MATRIX_DEADLINE:-540}

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT="$ROOT/build/pymatrix"
START=$(date +%s)

if [ -f "$ROOT/config.status" ]; then
    echo "python-matrix: the source tree is configured in place; run 'make distclean' there first" >&2
    echo "python-matrix: 0 passed, 1 failed"
    exit 1
fi
if [ ! -x "$ROOT/configure" ] && ! autoreconf -fi >/dev/null 2>&1; then
    echo "python-matrix: autoreconf failed" >&2
    echo "python-matrix: 0 passed, 1 failed"
    exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"

# ---- the interpreters ------------------------------------------------------------------
# CELLS: "name|interpreter|configure assignments" (name: a directory name)
CELLS=()
REFUSE=()
declare -A SEEN_MINOR=()

minor_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
full_of() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null; }
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

add_interpreter() {   # PATH ORIGIN (debian, pyenv)
    local py=$1 minor full
    [ -x "$py" ] || return 0
    minor=$(minor_of "$py") || return 0
    full=$(full_of "$py") || return 0
    if in_list "$minor" "$MATRIX_VERSIONS"; then
        CELLS+=("$full-$2|$py|")
        SEEN_MINOR[$minor]=1
        [ "$2" = pyenv ] && PYENV_TESTED+=("$full $py")
    elif in_list "$minor" "$MATRIX_REFUSED"; then
        REFUSE+=("$py")
        SEEN_MINOR[$minor]=1
    fi
}

PYENV_TESTED=()
add_interpreter /usr/bin/python3.11 debian

PYENV=$(command -v pyenv || { [ -x "$HOME/.pyenv/bin/pyenv" ] && echo "$HOME/.pyenv/bin/pyenv"; })
if [ -n "$PYENV" ]; then
    PYENV_ROOT_DIR=$("$PYENV" root 2>/dev/null)
    while IFS= read -r v; do
        case $v in 3.[0-9]*.[0-9]*) ;; *) continue ;; esac
        case $v in */*) continue ;; esac          # virtualenvs
        add_interpreter "$PYENV_ROOT_DIR/versions/$v/bin/python${v%.*}" pyenv
    done < <("$PYENV" versions --bare 2>/dev/null | sed 's/^[* ]*//; s/ .*//')
fi
# The static libpython cell: the newest pyenv interpreter tested, linked
# to its libpython.a.
if [ "${#PYENV_TESTED[@]}" -gt 0 ]; then
    newest=$(printf '%s\n' "${PYENV_TESTED[@]}" | sort -V | tail -n 1)
    py=${newest#* }
    archive=$("$py" -c 'import sysconfig as s; print(s.get_config_var("LIBPL") + "/" + s.get_config_var("LIBRARY"))' 2>/dev/null)
    [ -f "$archive" ] && CELLS+=("${newest%% *}-static|$py|wf_cv_python_shared=no")
fi

# ---- one cell ----------------------------------------------------------------------------
suite_count() {
    local n
    n=$(sed -n "s/^# $1: *\([0-9][0-9]*\).*/\1/p" "$2" 2>/dev/null | head -n 1)
    echo "${n:-0}"
}

# run_cell NAME PYTHON ASSIGNMENTS TIMEOUT: writes $OUT/NAME/result (one line)
# and $OUT/NAME/status (pass or fail).
run_cell() {
    local name=$1 py=$2 assign=$3 limit=$4 dir="$OUT/$1" t0 rc label step=configure
    local pass fail skip checks ver
    t0=$(date +%s)
    mkdir -p "$dir"
    label="python $(full_of "$py")${assign:+ static libpython} ($py)"
    # shellcheck disable=SC2086  # ASSIGNMENTS is a list of VAR=value words
    timeout -k 10 "$limit" bash -c '
        cd "$1" || exit 1
        echo configure >step
        "$2/configure" --enable-werror --with-python="$3" $4 >configure.out 2>&1 || exit 1
        echo make >step
        nice -n 10 make >make.out 2>&1 || exit 1
        echo check >step
        nice -n 10 make check TESTS="$5" >check.out 2>&1
        echo done >step' _ "$dir" "$ROOT" "$py" "$assign" "$MATRIX_TESTS"
    rc=$?
    step=$(cat "$dir/step" 2>/dev/null || echo configure)
    pass=$(( $(suite_count PASS "$dir/test-suite.log") + $(suite_count XFAIL "$dir/test-suite.log") ))
    fail=$(( $(suite_count FAIL "$dir/test-suite.log") + $(suite_count ERROR "$dir/test-suite.log") +
             $(suite_count XPASS "$dir/test-suite.log") ))
    skip=$(suite_count SKIP "$dir/test-suite.log")
    checks=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\).*/\1/p' "$dir/tests/check_wsgi_fcgi.log" 2>/dev/null | head -n 1)
    local notes=""
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        notes="$notes; timed out after $limit s in $step"
        fail=$((fail + 1))
    elif [ "$step" != done ]; then
        notes="$notes; $step failed (build/pymatrix/$name/$step.out)"
        fail=$((fail + 1))
    fi
    if [ -x "$dir/src/wsgi-fcgi" ]; then
        ver=$("$dir/src/wsgi-fcgi" --version 2>&1)
        # grep -q reads here-strings, never a pipe: under pipefail a writer
        # killed by SIGPIPE when grep leaves early would fail at random.
        if ! grep -qF "Python $(full_of "$py") ($py)" <<< "$ver"; then
            notes="$notes; --version does not name $py: $(printf '%s' "$ver" | paste -sd ' ' -)"
            fail=$((fail + 1))
        fi
        if [ -n "$assign" ] && grep -q libpython <<< "$(ldd "$dir/src/wsgi-fcgi")"; then
            notes="$notes; linked to a shared libpython"
            fail=$((fail + 1))
        fi
    fi
    [ -n "$checks" ] && notes="; Check: $checks checks$notes"
    [ "$skip" -gt 0 ] && notes="; $skip skipped$notes"
    notes=${notes#; }
    echo "$label: $pass passed, $fail failed${notes:+ ($notes)}, $(( $(date +%s) - t0 )) s" >"$dir/result"
    if [ "$fail" = 0 ] && [ "$pass" -gt 0 ]; then echo pass; else echo fail; fi >"$dir/status"
}

# ---- run the cells, MATRIX_JOBS at a time -------------------------------------------------
running=0
for cell in "${CELLS[@]}"; do
    IFS='|' read -r name py assign <<<"$cell"
    left=$(( MATRIX_DEADLINE - ($(date +%s) - START) ))
    while [ "$running" -ge "$MATRIX_JOBS" ]; do
        wait -n
        running=$((running - 1))
        left=$(( MATRIX_DEADLINE - ($(date +%s) - START) ))
    done
    mkdir -p "$OUT/$name"
    if [ "$left" -lt 30 ]; then
        echo "python $(full_of "$py")${assign:+ static libpython} ($py): skipped (the matrix's $MATRIX_DEADLINE s are spent)" >"$OUT/$name/result"
        echo skip >"$OUT/$name/status"
        continue
    fi
    [ "$left" -gt "$MATRIX_CELL_TIMEOUT" ] && left=$MATRIX_CELL_TIMEOUT
    echo "python-matrix: starting $name" >&2
    run_cell "$name" "$py" "$assign" "$left" &
    running=$((running + 1))
done
wait

# ---- configure must refuse the old ones -----------------------------------------------------
REFUSED_LINES=()
REFUSED_OK=0
REFUSED_BAD=0
for py in "${REFUSE[@]}"; do
    full=$(full_of "$py")
    dir="$OUT/refuse-$full"
    mkdir -p "$dir"
    (cd "$dir" && timeout -k 5 120 "$ROOT/configure" --with-python="$py") >"$dir/configure.out" 2>"$dir/configure.err"
    rc=$?
    err=$(cat "$dir/configure.err")
    if [ "$rc" != 0 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] &&
        grep -q "^configure: error: Python $full ($py) is too old" <<< "$err"; then
        REFUSED_LINES+=("python $full ($py): refused by configure, as it must be: \"$err\"")
        REFUSED_OK=$((REFUSED_OK + 1))
    else
        REFUSED_LINES+=("python $full ($py): FAILED: configure exit $rc, stderr: $(printf '%s' "$err" | tail -n 3 | paste -sd '|' -)")
        REFUSED_BAD=$((REFUSED_BAD + 1))
    fi
done

# ---- summary ---------------------------------------------------------------------------------
PASS=$REFUSED_OK
FAIL=$REFUSED_BAD
SKIP=0
echo
echo "=== python matrix (tests: $MATRIX_TESTS)"
for cell in "${CELLS[@]}"; do
    IFS='|' read -r name _ _ <<<"$cell"
    cat "$OUT/$name/result" 2>/dev/null || echo "python $name: FAILED: no result"
    case $(cat "$OUT/$name/status" 2>/dev/null) in
        pass) PASS=$((PASS + 1)) ;;
        skip) SKIP=$((SKIP + 1)) ;;
        *) FAIL=$((FAIL + 1))
           for f in configure make check; do
               [ -f "$OUT/$name/$f.out" ] && [ "$(cat "$OUT/$name/step" 2>/dev/null)" = "$f" ] &&
                   tail -n 15 "$OUT/$name/$f.out" | sed 's/^/    | /'
           done
           for t in "$OUT/$name"/tests/*.trs; do
               [ -f "$t" ] && grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$t" &&
                   { echo "    FAILED: ${t#"$OUT/$name/"}"; tail -n 20 "${t%.trs}.log" | sed 's/^/    | /'; }
           done ;;
    esac
done
for line in "${REFUSED_LINES[@]}"; do
    echo "$line"
done
for minor in $MATRIX_VERSIONS $MATRIX_REFUSED; do
    if [ -z "${SEEN_MINOR[$minor]:-}" ]; then
        echo "python $minor: skipped (not present)"
        SKIP=$((SKIP + 1))
    fi
done
echo "python-matrix: $PASS passed, $FAIL failed, $SKIP skipped ($(( $(date +%s) - START )) s)"
[ "$FAIL" = 0 ] || exit 1
exit 0
