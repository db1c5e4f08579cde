#!/usr/bin/env bash
# tests/deb-check.sh: the Debian package, from source tree to purge.
#
#   bash tests/deb-check.sh          (as root, on Debian 12, with the packages
#                                     tests/run-all.sh installs)
#
# Steps, each reported as one line "deb: STEP: ok|FAIL|skipped ...":
#   build    copy the tree (git's tracked and untracked, not ignored, files)
#            to build/deb/wsgi-fcgi and run "dpkg-buildpackage -us -uc -b"
#            there, so the source tree and its out-of-tree builds stay clean;
#   lintian  lintian on the .changes (the .deb, the .buildinfo and the dbgsym
#            package): its output and verdict; any error or warning fails;
#   install  apt-get install ./wsgi-fcgi_*.deb; nothing enabled or started;
#   files    the binary, the manual page, the examples, the template units
#            (systemd-analyze verify on an instance of them), /etc/wsgi-fcgi;
#   nginx    contrib/demo.sh with DEMO_BIN=/usr/bin/wsgi-fcgi: the example
#            application from the installed binary behind a real nginx on a
#            free loopback port, one GET checked;
#   unit     every setting of the installed example.conf accepted by
#            "wsgi-fcgi --check --config", then the installed
#            wsgi-fcgi@.service's ExecStart, as written, under
#            systemd-socket-activate with a NAME.conf serving the example app,
#            one request through cgi-fcgi (skipped while the binary has no
#            --config);
#   purge    apt-get remove --purge: nothing left in /usr/bin, /etc, /lib or
#            /usr/share/doc.
# It ends with "deb-check: N passed, N failed[, N skipped]" and exits 1 when
# a step failed, 77 when it could not run at all (not root, not Debian).
#
# Environment: DEB_BUILD_OPTIONS (default "nocheck": run-all.sh runs the test
# suite already; set it empty to run "make check" inside the package build).

set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT="$ROOT/build/deb"
SRC="$OUT/wsgi-fcgi"

PASS=0
FAIL=0
SKIP=0
ok()   { PASS=$((PASS + 1)); echo "deb: $1: ok${2:+ ($2)}"; }
bad()  { FAIL=$((FAIL + 1)); echo "deb: $1: FAIL: $2"; }
skip() { SKIP=$((SKIP + 1)); echo "deb: $1: skipped ($2)"; }
indent() { sed 's/^/    | /'; }
finish() {
    local r="deb-check: $PASS passed, $FAIL failed"
    [ "$SKIP" -gt 0 ] && r="$r, $SKIP skipped"
    echo "$r"
    [ "$FAIL" = 0 ] || exit 1
    exit 0
}

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 ||
    ! command -v dpkg-buildpackage >/dev/null 2>&1; then
    echo "deb: skipped (needs root, apt-get and dpkg-buildpackage)"
    echo "deb-check: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600 -y)

# ---- build ----------------------------------------------------------------------------
build() {
    rm -rf "$OUT"
    mkdir -p "$SRC"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$ROOT" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
            tar -xf - -C "$SRC" || { bad build "cannot copy the tree"; return 1; }
    else
        # an unpacked release tarball: everything but build products
        tar -C "$ROOT" --exclude=./build --exclude='./build-*' --exclude=./debian/wsgi-fcgi \
            -cf - . | tar -xf - -C "$SRC" || { bad build "cannot copy the tree"; return 1; }
    fi
    if ! (cd "$SRC" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS-nocheck}" \
            timeout -k 10 1200 dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
        tail -n 30 "$OUT/build.log" | indent
        bad build "dpkg-buildpackage failed (see build/deb/build.log)"
        return 1
    fi
    DEB=$(ls "$OUT"/wsgi-fcgi_*.deb 2>/dev/null | head -n 1)
    CHANGES=$(ls "$OUT"/wsgi-fcgi_*.changes 2>/dev/null | head -n 1)
    if [ -z "$DEB" ] || [ -z "$CHANGES" ]; then
        bad build "no wsgi-fcgi_*.deb or .changes in build/deb"
        return 1
    fi
    (cd "$OUT" && ls -l ./*.deb ./*.changes ./*.buildinfo) | indent
    dpkg-deb -I "$DEB" | sed -n 's/^ \(Package\|Version\|Depends\|Installed-Size\):/\1:/p' | indent
    ok build "${DEB#"$ROOT"/}"
}

# ---- lintian --------------------------------------------------------------------------
lint() {
    if ! command -v lintian >/dev/null 2>&1; then
        bad lintian "lintian is not installed"
        return
    fi
    local out rc ew
    out=$(lintian --info --display-info --pedantic --show-overrides --fail-on error,warning "$CHANGES" 2>&1)
    rc=$?
    out=$(printf '%s\n' "$out" | grep -v -e '^running with root privileges' -e '^$')
    [ -n "$out" ] && printf '%s\n' "$out" | indent
    ew=$(printf '%s\n' "$out" | grep -c '^[EW]: ')
    if [ "$rc" = 0 ] && [ "$ew" = 0 ]; then
        ok lintian "no errors, no warnings; $(printf '%s\n' "$out" | grep -c '^[IPX]: ') info/pedantic tags, $(printf '%s\n' "$out" | grep -c '^O: ') overridden"
    else
        bad lintian "$ew errors or warnings (exit $rc)"
    fi
}

# ---- install --------------------------------------------------------------------------
INSTALLED=0
install_pkg() {
    if ! (cd "$OUT" && timeout -k 10 900 "${APT[@]}" install "./$(basename "$DEB")") \
            >"$OUT/install.log" 2>&1 </dev/null; then
        tail -n 20 "$OUT/install.log" | indent
        bad install "apt-get install failed (see build/deb/install.log)"
        return 1
    fi
    INSTALLED=1
    local enabled
    enabled=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
                   -name 'wsgi-fcgi*' 2>/dev/null)
    if [ -n "$enabled" ]; then
        printf '%s\n' "$enabled" | indent
        bad install "the package enabled units on install"
        return 0
    fi
    ok install "$(dpkg-query -W -f='${Package} ${Version} ${Status}' wsgi-fcgi)"
}

# ---- files ----------------------------------------------------------------------------
files() {
    local missing="" f tmp
    for f in /usr/bin/wsgi-fcgi /usr/share/man/man1/wsgi-fcgi.1.gz \
             /usr/share/doc/wsgi-fcgi/copyright \
             /usr/share/doc/wsgi-fcgi/examples/example/app.py \
             /usr/share/doc/wsgi-fcgi/examples/nginx/wsgi-fcgi.conf \
             /usr/share/doc/wsgi-fcgi/examples/systemd/example.conf \
             /lib/systemd/system/wsgi-fcgi@.socket /lib/systemd/system/wsgi-fcgi@.service \
             /etc/wsgi-fcgi; do
        [ -e "$f" ] || missing="$missing $f"
    done
    if [ -n "$missing" ]; then
        bad files "missing:$missing"
        return
    fi
    if ! cmp -s "$ROOT/contrib/example/app.py" /usr/share/doc/wsgi-fcgi/examples/example/app.py; then
        bad files "the installed example app differs from contrib/example/app.py"
        return
    fi
    /usr/bin/wsgi-fcgi --version | indent
    # no __pycache__ in the package's directories: purge must find them as installed
    if ! PYTHONDONTWRITEBYTECODE=1 /usr/bin/wsgi-fcgi --check \
            /usr/share/doc/wsgi-fcgi/examples/example/app.py >"$OUT/check.out" 2>&1; then
        indent <"$OUT/check.out"
        bad files "wsgi-fcgi --check of the installed example app failed"
        return
    fi
    if command -v systemd-analyze >/dev/null 2>&1; then
        # verify an instance: copies named wsgi-fcgi@example.*
        tmp=$(mktemp -d)
        cp /lib/systemd/system/wsgi-fcgi@.socket "$tmp/wsgi-fcgi@example.socket"
        cp /lib/systemd/system/wsgi-fcgi@.service "$tmp/wsgi-fcgi@example.service"
        if ! systemd-analyze verify --man=no "$tmp/wsgi-fcgi@example.socket" \
                "$tmp/wsgi-fcgi@example.service" >"$OUT/verify.out" 2>&1; then
            indent <"$OUT/verify.out"
            rm -rf "$tmp"
            bad files "systemd-analyze verify rejects the template units"
            return
        fi
        rm -rf "$tmp"
    fi
    ok files "binary, man page, examples, units (systemd-analyze verify), /etc/wsgi-fcgi"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- nginx round trip -----------------------------------------------------------------
nginx_round_trip() {
    local port out
    if [ ! -x /usr/sbin/nginx ] || ! command -v curl >/dev/null 2>&1; then
        bad nginx "nginx or curl is not installed"
        return
    fi
    port=$(free_port)
    if ! out=$(PORT=$port DEMO_BIN=/usr/bin/wsgi-fcgi DEMO_ONESHOT=1 \
                   timeout -k 5 120 bash "$ROOT/contrib/demo.sh" 2>"$OUT/demo.err"); then
        tail -n 20 "$OUT/demo.err" | indent
        bad nginx "contrib/demo.sh with the installed binary failed"
        return
    fi
    printf '%s\n' "$out" | head -n 1 | indent
    if grep -q '^HTTP/[0-9.]* 200' <<< "${out%%$'\n'*}" &&
        grep -q '<title>wsgi-fcgi example</title>' <<< "$out" &&
        grep -q "<th>HTTP_HOST</th><td>127.0.0.1:$port</td>" <<< "$out"; then
        ok nginx "GET http://127.0.0.1:$port/ -> 200, the example page, through nginx and /usr/bin/wsgi-fcgi"
    else
        printf '%s\n' "$out" | head -n 20 | indent
        bad nginx "unexpected response"
    fi
}

# ---- the template service's ExecStart ---------------------------------------------------
unit_exec() {
    local tmp exec pid body i
    # No pipe into grep -q: under pipefail, grep leaving early can kill the
    # writer with SIGPIPE and fail the test at random.
    if ! grep -q -- '--config' <<< "$(/usr/bin/wsgi-fcgi --help 2>&1)"; then
        skip unit "this wsgi-fcgi has no --config yet"
        return
    fi
    if [ ! -x /usr/bin/systemd-socket-activate ] || ! command -v cgi-fcgi >/dev/null 2>&1; then
        bad unit "systemd-socket-activate or cgi-fcgi is not installed"
        return
    fi
    tmp=$(mktemp -d)
    # a copy of the installed example app, so its __pycache__ goes to tmp
    cp /usr/share/doc/wsgi-fcgi/examples/example/app.py "$tmp/app.py"
    printf 'app = %s\nprocesses = 1\nthreads = 2\n' "$tmp/app.py" >"$tmp/example.conf"
    # every setting of the installed example.conf, uncommented, is accepted
    # (the virtualenv's would need a real one)
    sed -e 's/^#\([a-z-]* = \)/\1/' -e '/^virtualenv = /d' -e "s|^app = .*|app = $tmp/app.py|" \
        -e "s|/srv/example|$tmp|g" /usr/share/doc/wsgi-fcgi/examples/systemd/example.conf \
        >"$tmp/all.conf"
    if ! (cd "$tmp" && PYTHONDONTWRITEBYTECODE=1 /usr/bin/wsgi-fcgi --check --config "$tmp/all.conf") \
            >"$tmp/check.out" 2>&1; then
        tail -n 5 "$tmp/check.out" | indent
        bad unit "wsgi-fcgi --check rejects the settings of examples/systemd/example.conf"
        rm -rf "$tmp"
        return
    fi
    # ExecStart as installed, %i's file moved to the temp dir
    exec=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/wsgi-fcgi@.service |
           sed "s|/etc/wsgi-fcgi/%i.conf|$tmp/example.conf|")
    # shellcheck disable=SC2086  # the unit's command line, split as systemd does
    /usr/bin/systemd-socket-activate -l "$tmp/s.sock" $exec 2>"$tmp/log" &
    pid=$!
    for i in $(seq 100); do [ -S "$tmp/s.sock" ] && break; sleep 0.05; done
    body=$(cd "$tmp" && REQUEST_METHOD=GET SCRIPT_NAME= PATH_INFO=/health QUERY_STRING= \
           SERVER_NAME=localhost SERVER_PORT=80 SERVER_PROTOCOL=HTTP/1.1 \
           timeout 30 cgi-fcgi -bind -connect "$tmp/s.sock" 2>&1)
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if grep -q '^ok' <<< "$body"; then
        ok unit "example.conf accepted; ExecStart=$exec -> GET /health: ok"
    else
        printf '%s\n' "$body" | head -n 10 | indent
        tail -n 10 "$tmp/log" | indent
        bad unit "no answer from the unit's command line"
    fi
    rm -rf "$tmp"
}

# ---- purge ----------------------------------------------------------------------------
purge() {
    local left="" f
    if ! timeout -k 10 600 "${APT[@]}" remove --purge wsgi-fcgi >"$OUT/purge.log" 2>&1 </dev/null; then
        tail -n 20 "$OUT/purge.log" | indent
        bad purge "apt-get remove --purge failed"
        return
    fi
    INSTALLED=0
    for f in /usr/bin/wsgi-fcgi /etc/wsgi-fcgi /usr/share/doc/wsgi-fcgi \
             /usr/share/man/man1/wsgi-fcgi.1.gz /lib/systemd/system/wsgi-fcgi@.socket \
             /lib/systemd/system/wsgi-fcgi@.service; do
        [ -e "$f" ] && left="$left $f"
    done
    if grep -q 'installed\|config-files' <<< "$(dpkg-query -W -f='${Status}' wsgi-fcgi 2>/dev/null)"; then
        left="$left (dpkg: $(dpkg-query -W -f='${Status}' wsgi-fcgi))"
    fi
    if [ -n "$left" ]; then
        bad purge "left behind:$left"
    else
        ok purge "nothing left in /usr/bin, /etc, /lib/systemd, /usr/share"
    fi
}

cleanup() {
    # a failure between install and purge must not leave the package behind
    if [ "$INSTALLED" = 1 ]; then
        "${APT[@]}" remove --purge wsgi-fcgi >/dev/null 2>&1 </dev/null
    fi
}
trap cleanup EXIT

echo "deb: building the package in build/deb (log: build/deb/build.log)"
if build; then
    lint
    if install_pkg; then
        files
        nginx_round_trip
        unit_exec
        purge
    else
        skip files "not installed"; skip nginx "not installed"; skip unit "not installed"
        skip purge "not installed"
    fi
else
    for s in lintian install files nginx unit purge; do skip "$s" "no package"; done
fi
finish
