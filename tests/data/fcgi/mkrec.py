#!/usr/bin/env python3
"""Regenerates the FastCGI record-stream fixtures in this directory.

Each case is NAME.rec (the bytes sent, as annotated hex: one record per
line, '#' comments, whitespace ignored, "quoted" text = its latin-1 bytes)
and NAME.expect (the expected outcome), read by tests/t-protocol.py:

    outcome: closed    the server closes without sending any STDOUT
    outcome: refused   no 200: closed, a non-200 status, or END_REQUEST
                       with a non-zero protocolStatus
    outcome: response  a response with the status given by `status:`
    outcome: any       anything, as long as the server survives
    status: NNN        (with outcome: response)
    log: REGEX         must appear in the server log (case-insensitive)

After every case the test checks that a normal request still works.
The .rec files are the reference; this script only saves hand work:
    cd tests/data/fcgi && python3 mkrec.py
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from wftest import fcgi as fc  # noqa: E402

NAMES = {1: "BEGIN_REQUEST", 2: "ABORT_REQUEST", 3: "END_REQUEST", 4: "PARAMS",
         5: "STDIN", 6: "STDOUT", 7: "STDERR", 8: "DATA", 9: "GET_VALUES",
         10: "GET_VALUES_RESULT", 11: "UNKNOWN_TYPE"}

PARAMS = [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b""), (b"PATH_INFO", b"/"),
          (b"QUERY_STRING", b""), (b"SERVER_NAME", b"localhost"),
          (b"SERVER_PORT", b"80"), (b"SERVER_PROTOCOL", b"HTTP/1.1")]


def hexs(b):
    return " ".join("%02x" % x for x in b)


class Rec:
    def __init__(self):
        self.lines = []

    def comment(self, text):
        self.lines.append("# " + text)

    def raw(self, data, note):
        self.lines.append("# raw: " + note)
        for i in range(0, len(data), 16):
            self.lines.append(hexs(data[i:i + 16]))

    def record(self, rtype, rid, content=b"", padding=0, version=1, note=""):
        name = NAMES.get(rtype, "type %d" % rtype)
        self.lines.append("# %s id=%d len=%d pad=%d version=%d %s" %
                          (name, rid, len(content), padding, version, note))
        hdr = struct.pack("!BBHHBx", version, rtype, rid, len(content), padding)
        self.lines.append(hexs(hdr))
        for i in range(0, len(content), 16):
            self.lines.append("    " + hexs(content[i:i + 16]))
        if padding:
            self.lines.append("    " + hexs(b"\0" * padding) + "  # padding")

    def begin(self, rid=1, role=1, flags=0, **kw):
        self.record(1, rid, struct.pack("!HB5x", role, flags), note="role=%d flags=%d" % (role, flags), **kw)

    def params(self, rid=1, pairs=PARAMS, sizes=None, end=True, padding=0):
        data = fc.encode_params(pairs)
        for c in fc.split(data, sizes):
            self.record(4, rid, c, padding)
        if end:
            self.record(4, rid, b"", note="(end of params)")

    def stdin_end(self, rid=1):
        self.record(5, rid, b"", note="(end of stdin)")

    def request(self, rid=1, role=1, flags=0):
        self.begin(rid, role, flags)
        self.params(rid)
        self.stdin_end(rid)

    def text(self):
        return "\n".join(self.lines) + "\n"


CASES = {}


def case(name, expect):
    def deco(fn):
        CASES[name] = (fn, expect)
        return fn
    return deco


@case("ok_plain", "outcome: response\nstatus: 200\n")
def _(r):
    r.comment("control: a correct responder request")
    r.request()


@case("ok_padded_tiny_records", "outcome: response\nstatus: 200\n")
def _(r):
    r.comment("correct, but every record padded and params in 1..3-byte records")
    r.begin(padding=0)
    r.params(sizes=[1, 2, 3], padding=5)
    r.record(5, 1, b"", padding=7, note="(end of stdin, padded)")


@case("garbage_http", "outcome: closed\n")
def _(r):
    r.comment("an HTTP request sent to the FastCGI socket")
    r.raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 request line and headers")


@case("garbage_zeros", "outcome: closed\n")
def _(r):
    r.comment("64 zero bytes: version 0")
    r.raw(b"\0" * 64, "zeros")


@case("truncated_header", "outcome: closed\n")
def _(r):
    r.comment("three bytes of a record header, then EOF")
    r.raw(b"\x01\x01\x00", "half a header")


@case("truncated_content", "outcome: closed\n")
def _(r):
    r.comment("BEGIN_REQUEST announcing 8 bytes of content, only 3 sent")
    r.raw(struct.pack("!BBHHBx", 1, 1, 1, 8, 0) + b"\x00\x01\x00", "short BEGIN_REQUEST")


@case("truncated_params", "outcome: closed\n")
def _(r):
    r.comment("a PARAMS record announcing 200 bytes, 20 sent, then EOF")
    r.begin()
    r.raw(struct.pack("!BBHHBx", 1, 4, 1, 200, 0) + b"\x0e\x03REQUEST_METHODGET", "short PARAMS")


@case("wrong_version", "outcome: refused\n")
def _(r):
    r.comment("a complete request whose records say version 2")
    r.begin(version=2)
    data = fc.encode_params(PARAMS)
    r.record(4, 1, data, version=2)
    r.record(4, 1, b"", version=2)
    r.record(5, 1, b"", version=2)


@case("wrong_version_later", "outcome: refused\n")
def _(r):
    r.comment("version 1 BEGIN_REQUEST, then PARAMS records with version 0")
    r.begin()
    r.record(4, 1, fc.encode_params(PARAMS), version=0)
    r.record(4, 1, b"", version=0)
    r.stdin_end()


@case("role_authorizer", "outcome: refused\nlog: role|authori\n")
def _(r):
    r.comment("a complete request in the AUTHORIZER role")
    r.request(role=fc.AUTHORIZER)


@case("role_filter", "outcome: refused\nlog: role|filter\n")
def _(r):
    r.comment("a complete request in the FILTER role, with an empty DATA stream")
    r.request(role=fc.FILTER)
    r.record(8, 1, b"", note="(end of data)")


@case("role_unknown", "outcome: refused\n")
def _(r):
    r.comment("a complete request with role 77")
    r.request(role=77)


@case("params_without_begin", "outcome: refused\n")
def _(r):
    r.comment("PARAMS and STDIN with no BEGIN_REQUEST")
    r.params()
    r.stdin_end()


@case("stdin_inside_params", "outcome: refused\n")
def _(r):
    r.comment("STDIN arrives before the PARAMS stream ended")
    r.begin()
    r.params(end=False)
    r.record(5, 1, b"body", note="")
    r.stdin_end()


@case("pair_overruns_stream", "outcome: refused\n")
def _(r):
    r.comment("a name-value pair declaring 50+50 bytes in a 12-byte stream")
    r.begin()
    r.record(4, 1, b"\x32\x32HTTP_X_AAAA", note="lengths 50/50, 10 bytes follow")
    r.record(4, 1, b"", note="(end of params)")
    r.stdin_end()


@case("pair_4byte_lengths_small", "outcome: response\nstatus: 200\n")
def _(r):
    r.comment("correct: 4-byte length encodings used for short names and values")
    r.begin()
    data = b"".join(struct.pack("!II", len(n) | 0x80000000, len(v) | 0x80000000) + n + v
                    for n, v in PARAMS)
    r.record(4, 1, data)
    r.record(4, 1, b"", note="(end of params)")
    r.stdin_end()


@case("begin_on_id_zero", "outcome: refused\n")
def _(r):
    r.comment("BEGIN_REQUEST on the management id 0, then params/stdin on id 0")
    r.begin(rid=0)
    r.params(rid=0)
    r.stdin_end(rid=0)


@case("unknown_type_in_request", "outcome: any\n")
def _(r):
    r.comment("a record of unknown type 0x55 in the middle of a request")
    r.begin()
    r.params()
    r.record(0x55, 1, b"junk")
    r.stdin_end()


@case("abort_request", "outcome: any\n")
def _(r):
    r.comment("ABORT_REQUEST right after the params")
    r.begin()
    r.params()
    r.record(2, 1, b"")
    r.stdin_end()


@case("second_begin_mpx", "outcome: any\n")
def _(r):
    r.comment("a second BEGIN_REQUEST (id 2) while request 1 is open")
    r.begin(rid=1)
    r.params(rid=1)
    r.begin(rid=2)
    r.stdin_end(rid=1)


@case("only_begin", "outcome: closed\n")
def _(r):
    r.comment("BEGIN_REQUEST, then EOF")
    r.begin()


@case("empty_stream", "outcome: closed\n")
def _(r):
    r.comment("nothing at all: connect, then EOF")


@case("keepconn_then_garbage", "outcome: any\n")
def _(r):
    r.comment("a correct request with FCGI_KEEP_CONN, then garbage on the same connection;")
    r.comment("the connection as a whole is malformed: serving the first request is")
    r.comment("allowed, not required (a guard may judge all the bytes it received)")
    r.request(flags=fc.KEEP_CONN)
    r.raw(b"\xff" * 32, "garbage after a kept request")


@case("keepconn_two_requests", "outcome: response\nstatus: 200\n")
def _(r):
    r.comment("two correct requests on one connection: id 1 with FCGI_KEEP_CONN, then id 2")
    r.request(rid=1, flags=fc.KEEP_CONN)
    r.request(rid=2)


@case("huge_param_length", "outcome: refused\n")
def _(r):
    r.comment("a pair declaring a 1 GiB value (LIBFCGI.md #1, CVE-2025-23016): must not")
    r.comment("kill the server")
    r.begin()
    r.record(4, 1, b"\x0a\xc0\x00\x00\x00HTTP_X_BIG" + b"A" * 32,
             note="name 10, value 0x40000000")
    r.record(4, 1, b"", note="(end of params)")
    r.stdin_end()


@case("huge_param_name_split", "outcome: refused\n")
def _(r):
    r.comment("a 4-byte name length 0x7fffffff cut across 1-byte PARAMS records")
    r.begin()
    r.params(pairs=PARAMS[:2])
    for b in (b"\xff", b"\xff", b"\xff", b"\xff", b"\x01", b"N"):
        r.record(4, 1, b)
    r.record(4, 1, b"", note="(end of params)")
    r.stdin_end()


@case("get_values_overflow", "outcome: response\nstatus: 200\n")
def _(r):
    r.comment("FCGI_GET_VALUES naming FCGI_MAX_CONNS six times (LIBFCGI.md #2: a stack")
    r.comment("overflow in libfcgi's reply): answered by wsgi-fcgi itself, then the request")
    r.record(9, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * 6))
    r.request()


@case("get_values_then_request", "outcome: any\n")
def _(r):
    r.comment("FCGI_GET_VALUES (management), then a normal request")
    r.record(9, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b""), (b"FCGI_MPXS_CONNS", b"")]))
    r.request()


@case("padded_begin", "outcome: closed\nlog: padded FCGI_BEGIN_REQUEST\n")
def _(r):
    r.comment("BEGIN_REQUEST with one byte of padding (legal FastCGI, but libfcgi reads the")
    r.comment("padding as the next record header and loses the params): refused")
    r.begin(padding=1)
    r.params()
    r.stdin_end()


@case("padded_end_of_params", "outcome: closed\nlog: padded empty FCGI_PARAMS\n")
def _(r):
    r.comment("the empty PARAMS record padded with 248 bytes that are an FCGI_GET_VALUES")
    r.comment("record naming FCGI_MAX_CONNS 15 times: libfcgi skips no padding there and")
    r.comment("would parse it (LIBFCGI.md #2: its stack overflows); found by")
    r.comment("tests/fuzz/fuzz_fcgi_libfcgi: refused")
    r.begin()
    r.params(end=False)
    smuggled = fc.record(9, 0, fc.encode_params([(b"FCGI_MAX_CONNS", b"")] * 15))
    r.lines.append("# PARAMS id=1 len=0 pad=%d version=1 (end of params, padded)" % len(smuggled))
    r.lines.append(hexs(struct.pack("!BBHHBx", 1, 4, 1, 0, len(smuggled))))
    r.raw(smuggled, "the padding: a GET_VALUES record")
    r.stdin_end()


@case("param_name_nul", "outcome: closed\nlog: param name holds a NUL\n")
def _(r):
    r.comment("a param whose name holds NUL bytes: libfcgi hands params over as NAME=VALUE")
    r.comment("C strings, so the param would vanish (found by tests/fuzz/fuzz_fcgi_libfcgi): refused")
    r.begin()
    r.params(pairs=PARAMS + [(b"\0\0PORT", b"80")])
    r.stdin_end()


@case("param_name_equals", "outcome: closed\nlog: param name holds a NUL or '='\n")
def _(r):
    r.comment("a param named 'REMOTE_USER=admin' with an empty value: libfcgi's NAME=VALUE")
    r.comment("string would make it REMOTE_USER with the value 'admin=': refused")
    r.begin()
    r.params(pairs=PARAMS + [(b"REMOTE_USER=admin", b"")])
    r.stdin_end()


def _mgmt_in_request(rtype):
    def fn(r):
        r.comment("a management record (id 0) of type %d after BEGIN_REQUEST, its 32 bytes of" % rtype)
        r.comment("content 0xff: libfcgi reads them as name/value lengths and its Malloc asserts")
        r.comment("(LIBFCGI.md #15, found by black-box fuzzing): refused by the walker")
        r.begin()
        r.record(rtype, 0, b"\xff" * 32)
        r.params()
        r.stdin_end()
    return fn


for _t in (3, 11, 12, 255):
    case("mgmt_type_%d_in_request" % _t,
         "outcome: closed\nlog: management record \\(request id 0\\) inside a request\n")(
        _mgmt_in_request(_t))


@case("huge_pair_deep_in_params", "outcome: closed\nlog: longer than --max-header-size\n")
def _(r):
    r.comment("12 KiB of good params, then a pair declaring a 0x7fffffff-byte name: past the")
    r.comment("first 8 KiB of the connection, where a look-ahead guard would stop (LIBFCGI.md #16)")
    r.begin()
    pairs = PARAMS + [(b"HTTP_X_%d" % i, b"v" * 200) for i in range(60)]
    data = fc.encode_params(pairs) + struct.pack("!IB", 0x80000000 | 0x7fffffff, 1) + b"AB"
    for c in fc.split(data, [4000]):
        r.record(4, 1, c)
    r.record(4, 1, b"", note="(end of params)")
    r.stdin_end()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, (fn, expect) in CASES.items():
        r = Rec()
        fn(r)
        with open(os.path.join(here, name + ".rec"), "w") as f:
            f.write(r.text())
        with open(os.path.join(here, name + ".expect"), "w") as f:
            f.write(expect)
        # the text must parse back to the bytes meant
        fc.parse_hex_text(r.text())
    print("\n".join(sorted(CASES)))


if __name__ == "__main__":
    main()
