#!/usr/bin/env python3
"""tests/fuzz/mkcorpus.py: writes the seed corpora tests/fuzz/corpus/<target>/.

    python3 tests/fuzz/mkcorpus.py

The FastCGI seeds are the protocol fixtures of tests/data/fcgi/*.rec (each
behind the control byte its target reads first); the others are small
requests, headers, command lines and lists of the kind the product sees.
Each file's name says what it holds.  The layout of every target's input is
described at the top of its tests/fuzz/fuzz_<target>.c.  Re-running the
script rewrites the set (files of the same name are replaced, no others
removed).
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from wftest import fcgi, scgi  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def fcgi_request(pairs, body=b"", req_id=1, keep=False, sizes=None):
    out = fcgi.record(fcgi.BEGIN_REQUEST, req_id, fcgi.begin_body(keep=keep))
    out += b"".join(fcgi.stream_records(fcgi.PARAMS, req_id, fcgi.encode_params(pairs), sizes))
    out += b"".join(fcgi.stream_records(fcgi.STDIN, req_id, body, sizes))
    return out


PAIRS = [("REQUEST_METHOD", "POST"), ("SCRIPT_NAME", ""), ("PATH_INFO", "/x"),
         ("QUERY_STRING", "a=1"), ("SERVER_NAME", "localhost"), ("SERVER_PORT", "80"),
         ("SERVER_PROTOCOL", "HTTP/1.1"), ("CONTENT_LENGTH", "5"), ("HTTP_HOST", "h")]


def fastcgi():
    data = os.path.join(HERE, "..", "data", "fcgi")
    for name in sorted(os.listdir(data)):
        if not name.endswith(".rec"):
            continue
        stream = fcgi.load_stream(os.path.join(data, name))
        base = name[:-4]
        put("fcgi_walk", base, b"\x05" + stream)          # max_head 8192
        put("fcgi_libfcgi", base, b"\x05" + stream)       # 4096, the app reads 1 byte at a time
        put("libfcgi_alone", base, stream)
    gv = fcgi.record(fcgi.GET_VALUES, 0, fcgi.encode_params(
        [("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", ""), ("FCGI_MPXS_CONNS", "")]))
    keep2 = fcgi_request(PAIRS, b"hello", keep=True) + fcgi_request(PAIRS, b"again", keep=True)
    big = fcgi_request(PAIRS + [("HTTP_X_LONG", "v" * 300)], b"b" * 3000, sizes=[7, 100, 1000])
    for name, stream in [("get_values_then_keep2", gv + keep2), ("split_records", big),
                         ("pair_4byte", fcgi_request([("N" * 200, "V" * 200)] + PAIRS))]:
        put("fcgi_walk", name, b"\x05" + stream)
        put("fcgi_libfcgi", name, b"\x09" + stream)    # 4096, 100 bytes at a time
    put("fcgi_libfcgi", "auto_scgi", b"\x19" + scgi.encode_header(
        [("CONTENT_LENGTH", "5"), ("SCGI", "1"), ("REQUEST_METHOD", "POST")]) + b"hello")
    # fcgi_mgmt: ctl, room, MAX_CONNS, MAX_REQS, then the record.
    head = bytes([0x03, 128]) + struct.pack("!HH", 10, 20)
    put("fcgi_mgmt", "get_values_all", head + gv)
    put("fcgi_mgmt", "get_values_one", head + fcgi.record(fcgi.GET_VALUES, 0, fcgi.encode_params(
        [("FCGI_MPXS_CONNS", "")])))
    put("fcgi_mgmt", "unknown_type", bytes([0x01, 128, 0, 1, 0, 1]) + fcgi.record(200, 0, b"x" * 8))
    put("fcgi_mgmt", "get_values_repeated", head + fcgi.record(fcgi.GET_VALUES, 0, fcgi.encode_params(
        [("FCGI_MAX_CONNS", "")] * 6)))


def raw_header(pairs):
    return b"".join(n.encode("latin-1") + b"\0" + v.encode("latin-1") + b"\0" for n, v in pairs)


def scgi_seeds():
    hdr = raw_header([("CONTENT_LENGTH", "5"), ("SCGI", "1"), ("REQUEST_METHOD", "POST"),
                              ("PATH_INFO", "/x"), ("HTTP_HOST", "h")])
    put("scgi", "netstring", b"\x05" + scgi.netstring(hdr) + b"hello")
    put("scgi", "netstring_small_max", b"\x03" + scgi.netstring(hdr))
    put("scgi", "header", b"\x85" + hdr)
    put("scgi", "header_cl_later", b"\x85" + raw_header(
        [("SCGI", "1"), ("REQUEST_METHOD", "GET"), ("CONTENT_LENGTH", "0")]))
    put("scgi", "header_cl_twice", b"\x85" + raw_header(
        [("CONTENT_LENGTH", "1"), ("SCGI", "1"), ("CONTENT_LENGTH", "2")]))
    put("scgi", "empty_netstring", b"\x05" + b"0:,")


def s(text, utf8=False):
    b = text.encode("utf-8" if utf8 else "latin-1")
    return bytes([len(b) | (0x80 if utf8 else 0)]) + b


def response():
    put("response", "ok_two_headers", bytes([0x21]) + s("200 OK") + s("Content-Type") + s("text/plain")
        + s("Content-Length") + s("5") + b"hello")
    put("response", "hop_by_hop", bytes([0x10]) + s("200 OK") + s("Connection") + s("close") + b"x")
    put("response", "bad_status", bytes([0x00]) + s("20 OK") + b"x")
    put("response", "exc_info_tuple", bytes([0x16]) + s("404 Not Found") + s("X-A") + s("\u0101", True)
        + b"body")
    put("response", "crlf_value", bytes([0x10]) + s("500 Oops") + s("X-B") + s("a\r\nb") + b"")


def environ():
    def pairs(p):
        return b"".join(n.encode("latin-1") + b"\0" + v.encode("latin-1") + b"\0" for n, v in p)
    put("environ", "plain", b"\x00" + pairs(PAIRS))
    put("environ", "script_name_app", b"\x04" + pairs([("SCRIPT_NAME", "/app/x/y"), ("HTTPS", "on")]))
    put("environ", "scheme_https_forced", b"\x1b" + pairs([("REQUEST_SCHEME", "HTTPS"),
                                                           ("HTTP_X", "\xff\x00")]))
    put("environ", "duplicates", b"\x02" + pairs([("A", "1"), ("A", "2"), ("wsgi.input", "x")]))


def numbers():
    for i, text in enumerate([b"0", b"123", b"18446744073709551616", b"0777", b"-1", b" 5", b"1e3",
                              b"999999999999999999"]):
        put("numbers", "n%d" % i, bytes([i]) + text)


def config():
    def argv(*a):
        return b"\x00".join(x.encode() for x in a)
    put("config", "socket_unix", b"\x00" + argv("-s", "unix:/tmp/a.sock", "-p", "2", "-t", "4", "app.py"))
    put("config", "socket_v6", b"\x00" + argv("--socket=[::1]:9000", "--allow-from", "10.0.0.0/8",
                                              "pkg.mod:factory()"))
    put("config", "config_file", b"\x01" + b"threads = 3\nsocket = 127.0.0.1:9000\n# c\n" + b"\x01"
        + argv("--scgi", "x.py:app"))
    put("config", "many", b"\x00" + argv("--max-body", "100", "--timeout", "5", "--header-timeout", "3",
                                         "--stats", ":9191", "--script-name", "/app", "--url-scheme",
                                         "https", "--protocol", "auto", "--backlog", "10", "a:b"))
    put("config", "help", b"\x00" + argv("--help"))


def acl():
    v4 = bytes([0]) + bytes([10, 1, 2, 3]) + bytes(12)
    v6 = bytes([1]) + bytes.fromhex("20010db8000000000000000000000001")
    mapped = bytes([2]) + bytes(12) + bytes([127, 0, 0, 1])
    put("acl", "list", b"127.0.0.1, 10.0.0.0/8,::1 ,2001:db8::/32\x01" + v4 + v6 + mapped)
    put("acl", "empty", b"\x01" + v4)
    put("acl", "bad_bits", b"10.0.0.0/33\x01" + v4)
    put("acl", "zero_prefix", b"0.0.0.0/0,::/0\x01" + v6 + mapped)


def main():
    fastcgi()
    scgi_seeds()
    response()
    environ()
    numbers()
    config()
    acl()


if __name__ == "__main__":
    main()
