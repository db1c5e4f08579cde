#!/usr/bin/env python3
"""A small SCGI client for the wsgi-fcgi test suite (Python stdlib only).

SCGI (python.ca/scgi/protocol.txt): the client sends one netstring
"LEN:HEADER," whose HEADER is NUL-terminated name/value strings, the first
pair being CONTENT_LENGTH, a pair SCGI=1 among them; then CONTENT_LENGTH body
bytes.  The server answers with a CGI-style response (an optional "Status:"
line, headers, an empty line, the body) and closes the connection.

This client sends

* params given as a list of (bytes name, bytes value) pairs, in that order,
  so duplicates, odd orders and any byte values are possible;
* a body, optionally cut into chunks sent with a delay between them;
* or raw bytes, for malformed and hostile requests;

and reads the whole response until the server closes the connection, while
still sending (a server may answer before it has read the whole body).  The
response is parsed into status, reason, headers (a list, order kept) and
body.

As a module:

    from wftest import scgi as sc
    r = sc.get("unix:/tmp/s.sock", "/path", "a=1")
    r = sc.request(addr, sc.default_params("POST", body=b"x"), b"x")
    r = sc.request_raw(addr, b"01:x,")      # r.eof, r.data == b"" ...

From the shell:

    python3 tests/wftest/scgi.py unix:/tmp/s.sock --path /x -q a=1 --print status
    python3 tests/wftest/scgi.py 127.0.0.1:4000 -m POST -d 'hello' --print body
    python3 tests/wftest/scgi.py unix:/tmp/s.sock --raw-hex '30313a782c'

Addresses: unix:PATH, PATH (contains a '/'), HOST:PORT, [IPV6]:PORT.
"""

import argparse
import errno
import json
import os
import selectors
import socket
import sys
import time

try:
    from .cgi_response import CGIResponse
    from .fcgi import as_bytes, connect, parse_address
except ImportError:          # run as a script: python3 tests/wftest/scgi.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cgi_response import CGIResponse  # noqa: E402
    from fcgi import as_bytes, connect, parse_address  # noqa: E402


# --------------------------------------------------------------------------
# Encoding

def netstring(data):
    data = as_bytes(data)
    return b"%d:%s," % (len(data), data)


def encode_header(pairs):
    """The netstring of the params, in the order given (no checks: the
    caller decides whether CONTENT_LENGTH comes first, or at all)."""
    out = bytearray()
    for name, value in pairs:
        out += as_bytes(name) + b"\0" + as_bytes(value) + b"\0"
    return netstring(bytes(out))


def default_params(method="GET", path="/", query="", body=b"", extra=(),
                   content_type=None):
    """What a web server typically sends: CONTENT_LENGTH first, SCGI=1, the
    CGI variables; extra pairs (name, value) are appended."""
    path = as_bytes(path)
    query = as_bytes(query)
    pairs = [
        (b"CONTENT_LENGTH", b"%d" % len(body)),
        (b"SCGI", b"1"),
        (b"REQUEST_METHOD", as_bytes(method)),
        (b"SCRIPT_NAME", b""),
        (b"PATH_INFO", path),
        (b"QUERY_STRING", query),
        (b"REQUEST_URI", path + (b"?" + query if query else b"")),
        (b"SERVER_NAME", b"localhost"),
        (b"SERVER_PORT", b"80"),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"REMOTE_PORT", b"40000"),
        (b"HTTP_HOST", b"localhost"),
    ]
    if content_type is not None:
        pairs.append((b"CONTENT_TYPE", as_bytes(content_type)))
    pairs.extend((as_bytes(n), as_bytes(v)) for n, v in extra)
    return pairs


# --------------------------------------------------------------------------
# Responses

class Response(CGIResponse):
    """Everything the server sent on one connection, and how it ended."""

    def __init__(self, data=b""):
        self.data = bytes(data)
        self.eof = False          # the server closed the connection
        self.timeout = False      # gave up waiting
        self.reset = False        # connection reset
        self.send_error = None    # the server stopped reading our request
        self.sent = 0             # request bytes the server took

    def _raw(self):
        return self.data

    def summary(self):
        return {
            "status": self.status,
            "reason": self.reason,
            "headers": self.headers,
            "body_length": len(self.body),
            "length": len(self.data),
            "eof": self.eof,
            "timeout": self.timeout,
            "reset": self.reset,
            "send_error": str(self.send_error) if self.send_error else None,
        }

    def __repr__(self):
        s = self.summary()
        s["body"] = self.body[:200]
        return "Response(%r)" % (s,)


# --------------------------------------------------------------------------
# The exchange

def exchange(addr, chunks, timeout=30.0, shutdown=False, delay=0.0,
             max_response=None):
    """Connect, send the byte strings in chunks (with delay seconds between
    them) while reading, optionally half-close after the last one, and read
    until the server closes, the deadline passes, or max_response bytes
    arrived.  Returns a Response; never raises for what the server does."""
    deadline = time.monotonic() + timeout
    resp = Response()
    received = bytearray()
    sock = connect(addr, timeout)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    pending = [memoryview(as_bytes(c)) for c in chunks if len(c)]
    next_send = time.monotonic()
    sending = True
    try:
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while True:
            now = time.monotonic()
            if now >= deadline:
                resp.timeout = True
                break
            if sending and not pending:
                sending = False
                if shutdown:
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            want = selectors.EVENT_READ
            wait = deadline - now
            if sending:
                if now >= next_send:
                    want |= selectors.EVENT_WRITE
                else:
                    wait = min(wait, next_send - now)
            sel.modify(sock, want)
            for _key, ev in sel.select(max(0.0, wait)):
                if ev & selectors.EVENT_READ:
                    try:
                        data = sock.recv(1 << 18)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except (ConnectionResetError, BrokenPipeError):
                        resp.reset = resp.eof = True
                        data = b""
                    if data == b"":
                        resp.eof = True
                    elif data:
                        received += data
                if ev & selectors.EVENT_WRITE and sending and pending and not resp.eof:
                    try:
                        n = sock.send(pending[0][:1 << 18])
                    except (BlockingIOError, InterruptedError):
                        n = 0
                    except OSError as e:
                        if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                            raise
                        resp.send_error = e
                        pending = []
                        sending = False
                        n = 0
                    resp.sent += n
                    if pending and n:
                        if n == len(pending[0]):
                            pending.pop(0)
                            if delay:
                                next_send = time.monotonic() + delay
                        else:
                            pending[0] = pending[0][n:]
            if resp.eof:
                break
            if max_response is not None and len(received) >= max_response:
                break
    finally:
        sel.close()
        sock.close()
    resp.data = bytes(received)
    return resp


def request(addr, params=None, body=b"", timeout=30.0, chunk=None, delay=0.0,
            **kw):
    """One SCGI request; params default to default_params(body=body).

    chunk: cut header + body into pieces of this size (with delay between
    them), to show the server takes a request that arrives in pieces."""
    body = as_bytes(body)
    if params is None:
        params = default_params(body=body)
    data = encode_header(params) + body
    if chunk:
        chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    else:
        chunks = [data]
    return exchange(addr, chunks, timeout, delay=delay, **kw)


def request_raw(addr, data, timeout=30.0, shutdown=True, **kw):
    """Send raw bytes (half-closing afterwards unless shutdown=False) and
    read what comes back."""
    return exchange(addr, [data] if isinstance(data, (bytes, bytearray)) else data,
                    timeout, shutdown=shutdown, **kw)


def get(addr, path="/", query="", method="GET", body=b"", extra=(),
        timeout=30.0, content_type=None, **kw):
    params = default_params(method, path, query, body, extra, content_type)
    return request(addr, params, body, timeout=timeout, **kw)


# --------------------------------------------------------------------------
# CLI

def _unescape(s):
    """NAME=VALUE from the command line: \\xHH escapes allowed."""
    b = os.fsencode(s)
    out = bytearray()
    i = 0
    while i < len(b):
        if b[i:i + 2] == b"\\x" and i + 4 <= len(b):
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        elif b[i:i + 2] == b"\\\\":
            out.append(0x5c)
            i += 2
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="SCGI test client")
    ap.add_argument("address", help="unix:PATH, PATH, HOST:PORT or [V6]:PORT")
    ap.add_argument("-p", "--param", action="append", default=[],
                    metavar="NAME=VALUE", help="an extra param (\\xHH escapes)")
    ap.add_argument("--no-defaults", action="store_true",
                    help="send only the -p params, in order (no CONTENT_LENGTH/SCGI added)")
    ap.add_argument("-m", "--method", default="GET")
    ap.add_argument("--path", default="/")
    ap.add_argument("-q", "--query", default="")
    ap.add_argument("-d", "--data", help="request body (string)")
    ap.add_argument("--data-file", help="request body from a file")
    ap.add_argument("--chunk", type=int, help="send the request in pieces of this size")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between pieces")
    ap.add_argument("--raw-file", help="send this file's bytes as they are")
    ap.add_argument("--raw-hex", help="send these hex bytes as they are")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--print", dest="what", default="json",
                    choices=["json", "status", "body", "headers", "raw"])
    args = ap.parse_args(argv)

    if args.raw_file or args.raw_hex:
        if args.raw_file:
            with open(args.raw_file, "rb") as f:
                data = f.read()
        else:
            data = bytes.fromhex(args.raw_hex)
        r = request_raw(args.address, data, args.timeout)
    else:
        body = b""
        if args.data is not None:
            body = os.fsencode(args.data)
        if args.data_file:
            with open(args.data_file, "rb") as f:
                body = f.read()
        extra = []
        for p in args.param:
            name, _, value = _unescape(p).partition(b"=")
            extra.append((name, value))
        if args.no_defaults:
            params = extra
        else:
            params = default_params(args.method, args.path, args.query, body, extra)
        r = request(args.address, params, body, args.timeout, chunk=args.chunk,
                    delay=args.delay)

    out = sys.stdout.buffer
    if args.what == "json":
        s = r.summary()
        s["body"] = r.body.decode("latin-1")
        out.write(json.dumps(s).encode() + b"\n")
    elif args.what == "status":
        out.write(("%s\n" % r.status).encode())
    elif args.what == "headers":
        for n, v in r.headers:
            out.write(("%s: %s\n" % (n, v)).encode("latin-1"))
    elif args.what == "body":
        out.write(r.body)
    else:
        out.write(r.data)
    out.flush()
    return 0 if r.eof and r.well_formed else 1


if __name__ == "__main__":
    sys.exit(main())
