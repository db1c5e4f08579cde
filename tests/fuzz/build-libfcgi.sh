#!/bin/sh
# tests/fuzz/build-libfcgi.sh: builds Debian's own libfcgi, instrumented for
# the fuzzer (ASan, UBSan, libFuzzer coverage), as a static library.
#
#   sh tests/fuzz/build-libfcgi.sh [DIR]      (default DIR: build/libfcgi-fuzz)
#
# It fetches the source package of the libfcgi installed on this machine
# (apt-get source libfcgi=VERSION: Debian's patches applied), compiles
# libfcgi/fcgiapp.c and libfcgi/os_unix.c with clang, and writes
# DIR/libfcgi-fuzz.a and DIR/include/.  Nothing of libfcgi is committed to
# this project: the source lives only in DIR.
#
# OS_Read, OS_Write and OS_IpcClose are made weak symbols in os_unix.o.
# wsgi-fcgi defines them (src/fcgi.c) and, against the shared libfcgi, the
# dynamic linker binds libfcgi's calls to ours; in this static library the
# weak definitions give way to ours at link time in the same way.
#
# Needs: apt-get with a deb-src entry (added here as
# /etc/apt/sources.list.d/wsgi-fcgi-src.sources from the deb entries when
# none is configured and we are root), dpkg-dev, clang, objcopy.
# Environment: FUZZ_CC (default clang).  Exit status 0, or 1 with a reason;
# 77 when the source cannot be had (no deb-src and not root, no network).

set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$ROOT/build/libfcgi-fuzz}
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"

say() { echo "build-libfcgi: $*"; }

VERSION=$(dpkg-query -W -f='${Version}' libfcgi0ldbl 2>/dev/null || true)
[ -n "$VERSION" ] || VERSION=$(dpkg-query -W -f='${Version}' libfcgi-dev 2>/dev/null || true)
if [ -z "$VERSION" ]; then
    say "libfcgi is not installed (libfcgi-dev): nothing to match"
    exit 1
fi

if [ -f "$DIR/libfcgi-fuzz.a" ] && [ "$(cat "$DIR/VERSION" 2>/dev/null)" = "$VERSION" ]; then
    say "$DIR/libfcgi-fuzz.a is up to date ($VERSION)"
    exit 0
fi

have_src() { apt-cache showsrc libfcgi 2>/dev/null | grep -q "^Version: $VERSION\$"; }

if ! have_src; then
    if [ "$(id -u)" != 0 ]; then
        say "no deb-src entry for libfcgi $VERSION, and not root to add one"
        exit 77
    fi
    src=/etc/apt/sources.list.d/wsgi-fcgi-src.sources
    if [ ! -e "$src" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
        say "adding deb-src entries ($src)"
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src"
    elif [ ! -e "$src" ] && [ -f /etc/apt/sources.list ]; then
        grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "${src%.sources}.list"
    fi
    apt-get update >/dev/null 2>&1 || true
    if ! have_src; then
        say "apt-get cannot find the source of libfcgi $VERSION"
        exit 77
    fi
fi

rm -rf "$DIR"
mkdir -p "$DIR/dl"
cd "$DIR/dl"
# --download-only, then dpkg-source: apt's sandbox user need not be able to
# write here.
if ! apt-get source --download-only "libfcgi=$VERSION" >../fetch.log 2>&1; then
    tail -n 5 ../fetch.log
    say "apt-get source libfcgi=$VERSION failed"
    exit 77
fi
dpkg-source --no-check -x ./libfcgi_*.dsc "$DIR/src" >../extract.log 2>&1
cd "$DIR/src"

# What configure would find on Linux with glibc.
cat > include/fcgi_config.h <<'EOF'
/* Written by wsgi-fcgi's tests/fuzz/build-libfcgi.sh for Linux/glibc. */
#define HAVE_ARPA_INET_H 1
#define HAVE_FILENO_PROTO 1
#define HAVE_FPOS 1
#define HAVE_INTTYPES_H 1
#define HAVE_LIMITS_H 1
#define HAVE_NETDB_H 1
#define HAVE_NETINET_IN_H 1
#define HAVE_SOCKLEN 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRERROR 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_PARAM_H 1
#define HAVE_SYS_SOCKET_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_UNISTD_H 1
#define STDC_HEADERS 1
#define USE_LOCKING 1
EOF

for f in fcgiapp os_unix; do
    say "$CC libfcgi/$f.c"
    # shellcheck disable=SC2086
    $CC $CFLAGS -w -Iinclude -c "libfcgi/$f.c" -o "$DIR/$f.o"
done
objcopy --weaken-symbol=OS_Read --weaken-symbol=OS_Write --weaken-symbol=OS_IpcClose "$DIR/os_unix.o"
rm -f "$DIR/libfcgi-fuzz.a"
ar rcs "$DIR/libfcgi-fuzz.a" "$DIR/fcgiapp.o" "$DIR/os_unix.o"
mkdir -p "$DIR/include"
cp include/fcgiapp.h include/fcgios.h include/fcgimisc.h include/fastcgi.h include/fcgi_config.h "$DIR/include/"
echo "$VERSION" > "$DIR/VERSION"
say "$DIR/libfcgi-fuzz.a: libfcgi $VERSION with ASan, UBSan and libFuzzer coverage"
