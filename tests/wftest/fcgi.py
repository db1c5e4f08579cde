#!/usr/bin/env python3
"""A small FastCGI client for the wsgi-fcgi test suite (Python stdlib only).

It speaks the FastCGI 1.0 record protocol directly so that tests can send
what a real web server sends, and also what no sane web server ever sends:

* BEGIN_REQUEST with any role and the FCGI_KEEP_CONN flag on or off;
* PARAMS given as a list of (bytes name, bytes value) pairs, so duplicates
  and arbitrary bytes are possible, with the encoded stream cut into
  records of arbitrary sizes (1-byte records, length prefixes split across
  records, ...);
* STDIN cut into records of arbitrary sizes, optionally sent slowly, or cut
  short by closing the socket;
* raw bytes, for malformed and hostile streams.

It reads the response records (STDOUT, STDERR, END_REQUEST) and parses the
CGI-style STDOUT into status, headers (a list, order kept) and body.

Use it as a module (see Connection and request()) or from the shell:

    python3 tests/wftest/fcgi.py unix:/tmp/s.sock -p REQUEST_METHOD=GET -p PATH_INFO=/x
    python3 tests/wftest/fcgi.py 127.0.0.1:9000 --print status
    python3 tests/wftest/fcgi.py unix:/tmp/s.sock --replay tests/data/fcgi/garbage.rec

Addresses: unix:PATH, PATH (contains a '/'), HOST:PORT, [IPV6]:PORT.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

try:
    from .cgi_response import CGIResponse
except ImportError:          # run as a script: python3 tests/wftest/fcgi.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cgi_response import CGIResponse  # noqa: E402

VERSION_1 = 1

BEGIN_REQUEST = 1
ABORT_REQUEST = 2
END_REQUEST = 3
PARAMS = 4
STDIN = 5
STDOUT = 6
STDERR = 7
DATA = 8
GET_VALUES = 9
GET_VALUES_RESULT = 10
UNKNOWN_TYPE = 11

RESPONDER = 1
AUTHORIZER = 2
FILTER = 3

KEEP_CONN = 1

REQUEST_COMPLETE = 0
CANT_MPX_CONN = 1
OVERLOADED = 2
UNKNOWN_ROLE = 3

HEADER = struct.Struct("!BBHHBx")
MAX_CONTENT = 65535


# --------------------------------------------------------------------------
# Encoding

def record(rtype, req_id, content=b"", padding=0, version=VERSION_1):
    """One FastCGI record as bytes (content must be <= 65535 bytes)."""
    if len(content) > MAX_CONTENT:
        raise ValueError("record content too long: %d" % len(content))
    return (HEADER.pack(version, rtype, req_id, len(content), padding)
            + bytes(content) + b"\0" * padding)


def begin_body(role=RESPONDER, keep=False):
    return struct.pack("!HB5x", role, KEEP_CONN if keep else 0)


def _enc_len(n):
    if n < 128:
        return bytes([n])
    return struct.pack("!I", n | 0x80000000)


def encode_pair(name, value):
    """A name-value pair, with 1- or 4-byte lengths as the spec requires."""
    name = as_bytes(name)
    value = as_bytes(value)
    return _enc_len(len(name)) + _enc_len(len(value)) + name + value


def encode_params(pairs):
    return b"".join(encode_pair(n, v) for n, v in pairs)


def as_bytes(s):
    if isinstance(s, bytes):
        return s
    if isinstance(s, (bytearray, memoryview)):
        return bytes(s)
    return str(s).encode("latin-1")


def split(data, sizes=None):
    """Cut data into chunks.  sizes: None (as large as allowed), an int, or
    a list of ints used in turn (cycling).  Every chunk is <= 65535 bytes
    and non-empty."""
    if sizes is None:
        sizes = [MAX_CONTENT]
    elif isinstance(sizes, int):
        sizes = [sizes]
    sizes = [max(1, min(MAX_CONTENT, int(s))) for s in sizes]
    out = []
    pos = 0
    i = 0
    n = len(data)
    while pos < n:
        size = sizes[i % len(sizes)]
        out.append(data[pos:pos + size])
        pos += size
        i += 1
    return out


def stream_records(rtype, req_id, data, sizes=None, end=True, padding=0):
    """The records of one stream (PARAMS, STDIN, DATA), with the empty
    end-of-stream record when end is true."""
    recs = [record(rtype, req_id, c, padding) for c in split(data, sizes)]
    if end:
        recs.append(record(rtype, req_id, b""))
    return recs


# --------------------------------------------------------------------------
# Addresses

def parse_address(addr):
    """Return (family, sockaddr) for unix:PATH, PATH, HOST:PORT, [V6]:PORT."""
    if addr.startswith("unix:"):
        return socket.AF_UNIX, addr[5:]
    if "/" in addr:
        return socket.AF_UNIX, addr
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1:end + 2] != ":":
            raise ValueError("bad address: %r" % addr)
        return socket.AF_INET6, (addr[1:end], int(addr[end + 2:]))
    host, sep, port = addr.rpartition(":")
    if not sep:
        raise ValueError("bad address: %r" % addr)
    return socket.AF_INET, (host or "127.0.0.1", int(port))


def connect(addr, timeout=30.0):
    family, sa = parse_address(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sa)
    except BaseException:
        s.close()
        raise
    return s


# --------------------------------------------------------------------------
# Responses

class Response(CGIResponse):
    """What came back for one request id."""

    def __init__(self):
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.app_status = None
        self.protocol_status = None
        self.ended = False        # END_REQUEST seen
        self.eof = False          # the server closed the connection
        self.timeout = False      # gave up waiting
        self.reset = False        # connection reset / broken
        self.other = []           # other records: (type, req_id, content)
        self.send_error = None    # the server stopped reading our request

    def _raw(self):
        return self.stdout

    def summary(self):
        return {
            "status": self.status,
            "reason": self.reason,
            "headers": self.headers,
            "body_length": len(self.body),
            "stdout_length": len(self.stdout),
            "stderr": bytes(self.stderr).decode("latin-1"),
            "app_status": self.app_status,
            "protocol_status": self.protocol_status,
            "ended": self.ended,
            "eof": self.eof,
            "timeout": self.timeout,
            "reset": self.reset,
        }

    def __repr__(self):
        s = self.summary()
        s["body"] = bytes(self.body[:200])
        return "Response(%r)" % (s,)


# --------------------------------------------------------------------------
# Connection

class Connection:
    """One connection to a FastCGI server."""

    def __init__(self, addr, timeout=30.0):
        self.addr = addr
        self.timeout = timeout
        self.sock = connect(addr, timeout)
        self.buf = bytearray()
        self.closed_by_peer = False
        self.pending = {}      # req_id -> Response (records seen early)

    # sending --------------------------------------------------------
    def send(self, data, delay=0.0):
        """Send bytes; data may also be a list of byte strings, sent one
        by one with delay seconds between them."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = [data]
        first = True
        for chunk in data:
            if delay and not first:
                time.sleep(delay)
            first = False
            self.sock.sendall(chunk)

    def begin(self, req_id=1, role=RESPONDER, keep=False):
        self.send(record(BEGIN_REQUEST, req_id, begin_body(role, keep)))

    def params(self, pairs, req_id=1, sizes=None, end=True):
        """Send the PARAMS stream.  sizes cuts the *encoded* stream, so
        small sizes split length prefixes across records."""
        data = encode_params(pairs)
        self.send(b"".join(stream_records(PARAMS, req_id, data, sizes, end)))

    def stdin(self, body, req_id=1, sizes=None, end=True, delay=0.0):
        recs = stream_records(STDIN, req_id, body, sizes, end)
        if delay:
            self.send(recs, delay)
        else:
            # Join in bounded batches to avoid a huge copy for big bodies.
            batch = []
            size = 0
            for r in recs:
                batch.append(r)
                size += len(r)
                if size >= 1 << 20:
                    self.sock.sendall(b"".join(batch))
                    batch, size = [], 0
            if batch:
                self.sock.sendall(b"".join(batch))

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # receiving ------------------------------------------------------
    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline")
        self.sock.settimeout(remaining)
        data = self.sock.recv(1 << 18)
        if not data:
            self.closed_by_peer = True
            return False
        self.buf += data
        return True

    def read_record(self, deadline):
        """Return (version, type, req_id, content) or None at EOF."""
        while len(self.buf) < HEADER.size:
            if not self._fill(deadline):
                return None
        version, rtype, req_id, clen, plen = HEADER.unpack_from(self.buf)
        total = HEADER.size + clen + plen
        while len(self.buf) < total:
            if not self._fill(deadline):
                return None
        content = bytes(self.buf[HEADER.size:HEADER.size + clen])
        del self.buf[:total]
        return version, rtype, req_id, content

    def read_response(self, req_id=1, timeout=None, max_stdout=None,
                      stop_after=None):
        """Read records until END_REQUEST for req_id, EOF or timeout.

        stop_after: stop (without END_REQUEST) once that many STDOUT bytes
        arrived, for client-disconnect tests."""
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + timeout
        resp = self.pending.pop(req_id, None) or Response()
        while True:
            try:
                rec = self.read_record(deadline)
            except (socket.timeout, TimeoutError):
                resp.timeout = True
                return resp
            except (ConnectionResetError, BrokenPipeError):
                resp.reset = True
                resp.eof = True
                return resp
            if rec is None:
                resp.eof = True
                return resp
            _version, rtype, rid, content = rec
            target = resp
            if rid != req_id:
                target = self.pending.setdefault(rid, Response())
            if rtype == STDOUT:
                target.stdout += content
            elif rtype == STDERR:
                target.stderr += content
            elif rtype == END_REQUEST and len(content) >= 5:
                app_status, proto = struct.unpack("!IB", content[:5])
                target.app_status = app_status
                target.protocol_status = proto
                target.ended = True
            else:
                target.other.append((rtype, rid, content))
            if target is resp:
                if resp.ended:
                    return resp
                if stop_after is not None and len(resp.stdout) >= stop_after:
                    return resp
                if max_stdout is not None and len(resp.stdout) > max_stdout:
                    return resp

    def read_until_eof(self, timeout=None):
        """Read everything until the peer closes; returns (bytes, eof)."""
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
            return bytes(self.buf), True
        except (socket.timeout, TimeoutError):
            return bytes(self.buf), False
        except (ConnectionResetError, BrokenPipeError):
            return bytes(self.buf), True

    def request(self, params, body=b"", req_id=1, role=RESPONDER, keep=False,
                params_sizes=None, stdin_sizes=None, stdin_delay=0.0,
                timeout=None):
        """One whole request on this connection; returns a Response.

        A server may answer (or give up) before it read the whole request,
        e.g. a GET whose app failed: a send error then is not fatal, what
        the server sent is still read."""
        send_error = None
        try:
            self.begin(req_id, role, keep)
            self.params(params, req_id, params_sizes)
            self.stdin(body, req_id, stdin_sizes, delay=stdin_delay)
        except (BrokenPipeError, ConnectionResetError) as e:
            send_error = e
        r = self.read_response(req_id, timeout)
        r.send_error = send_error
        return r

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def default_params(method="GET", path="/", query="", body=b"", extra=(),
                   content_type=None):
    """A typical set of CGI params, as a web server would send them."""
    pairs = [
        (b"GATEWAY_INTERFACE", b"CGI/1.1"),
        (b"SERVER_SOFTWARE", b"fcgi_client/1"),
        (b"REQUEST_METHOD", as_bytes(method)),
        (b"SCRIPT_NAME", b""),
        (b"PATH_INFO", as_bytes(path)),
        (b"QUERY_STRING", as_bytes(query)),
        (b"REQUEST_URI", as_bytes(path) + (b"?" + as_bytes(query) if query else b"")),
        (b"SERVER_NAME", b"localhost"),
        (b"SERVER_PORT", b"80"),
        (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"REMOTE_PORT", b"40000"),
        (b"HTTP_HOST", b"localhost"),
    ]
    if body or method in ("POST", "PUT"):
        pairs.append((b"CONTENT_LENGTH", str(len(body)).encode()))
    if content_type is not None:
        pairs.append((b"CONTENT_TYPE", as_bytes(content_type)))
    pairs.extend((as_bytes(n), as_bytes(v)) for n, v in extra)
    return pairs


def request(addr, params=None, body=b"", timeout=30.0, **kw):
    """Open a connection, run one request, close; returns a Response."""
    if params is None:
        params = default_params(body=body)
    with Connection(addr, timeout) as c:
        return c.request(params, body, timeout=timeout, **kw)


def get(addr, path="/", query="", method="GET", body=b"", extra=(),
        timeout=30.0, **kw):
    params = default_params(method, path, query, body, extra)
    return request(addr, params, body, timeout=timeout, **kw)


# --------------------------------------------------------------------------
# Replay of data files (tests/data/fcgi)

def parse_hex_text(text):
    """Annotated hex: '#' starts a comment, whitespace is ignored, and
    "quoted text" stands for its latin-1 bytes."""
    out = bytearray()
    for line in text.splitlines():
        i = 0
        while i < len(line):
            c = line[i]
            if c == "#":
                break
            if c.isspace():
                i += 1
                continue
            if c == '"':
                end = line.index('"', i + 1)
                out += line[i + 1:end].encode("latin-1")
                i = end + 1
                continue
            out.append(int(line[i:i + 2], 16))
            i += 2
    return bytes(out)


def load_stream(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".rec"):
        return parse_hex_text(data.decode("latin-1"))
    return data


def replay(addr, data, timeout=10.0, shutdown=True):
    """Send raw bytes, optionally half-close, and read until EOF.

    Returns a dict: outcome ('closed', 'response', 'timeout'), status,
    stdout, end records ..."""
    result = {"outcome": None, "status": None, "protocol_status": [],
              "app_status": [], "stdout_length": 0, "eof": False}
    try:
        c = Connection(addr, timeout)
    except OSError as e:
        result["outcome"] = "connect-failed: %s" % e
        return result
    try:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if shutdown:
            c.shutdown_write()
        raw, eof = c.read_until_eof(timeout)
    finally:
        c.close()
    result["eof"] = eof
    # Parse what came back into records, tolerantly.
    stdout = bytearray()
    pos = 0
    while pos + HEADER.size <= len(raw):
        _v, rtype, _rid, clen, plen = HEADER.unpack_from(raw, pos)
        content = raw[pos + HEADER.size:pos + HEADER.size + clen]
        pos += HEADER.size + clen + plen
        if rtype == STDOUT:
            stdout += content
        elif rtype == END_REQUEST and len(content) >= 5:
            a, p = struct.unpack("!IB", content[:5])
            result["app_status"].append(a)
            result["protocol_status"].append(p)
    r = Response()
    r.stdout = stdout
    result["stdout_length"] = len(stdout)
    result["status"] = r.status if stdout else None
    if not eof:
        result["outcome"] = "timeout"
    elif stdout:
        result["outcome"] = "response"
    else:
        result["outcome"] = "closed"
    return result


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
    ap = argparse.ArgumentParser(description="FastCGI test client")
    ap.add_argument("address", help="unix:PATH, PATH, HOST:PORT or [V6]:PORT")
    ap.add_argument("-p", "--param", action="append", default=[],
                    metavar="NAME=VALUE", help="a param (\\xHH escapes)")
    ap.add_argument("--no-defaults", action="store_true",
                    help="send only the -p params")
    ap.add_argument("-m", "--method", default="GET")
    ap.add_argument("--path", default="/")
    ap.add_argument("-q", "--query", default="")
    ap.add_argument("-d", "--data", help="request body (string)")
    ap.add_argument("--data-file", help="request body from a file")
    ap.add_argument("--role", type=int, default=RESPONDER)
    ap.add_argument("--keep", action="store_true", help="set FCGI_KEEP_CONN")
    ap.add_argument("--params-chunk", type=int, help="PARAMS record size")
    ap.add_argument("--stdin-chunk", type=int, help="STDIN record size")
    ap.add_argument("-n", "--repeat", type=int, default=1,
                    help="requests on one connection (implies --keep if > 1)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--replay", help="send this data file raw and report")
    ap.add_argument("--print", dest="what", default="json",
                    choices=["json", "status", "body", "stdout", "headers"])
    args = ap.parse_args(argv)

    if args.replay:
        res = replay(args.address, load_stream(args.replay), args.timeout)
        print(json.dumps(res))
        return 0

    body = b""
    if args.data is not None:
        body = os.fsencode(args.data)
    if args.data_file:
        with open(args.data_file, "rb") as f:
            body = f.read()
    extra = []
    for p in args.param:
        raw = _unescape(p)
        name, _, value = raw.partition(b"=")
        extra.append((name, value))
    if args.no_defaults:
        params = extra
    else:
        params = default_params(args.method, args.path, args.query, body, extra)

    keep = args.keep or args.repeat > 1
    rc = 0
    with Connection(args.address, args.timeout) as c:
        for i in range(args.repeat):
            r = c.request(params, body, req_id=1, role=args.role, keep=keep,
                          params_sizes=args.params_chunk,
                          stdin_sizes=args.stdin_chunk, timeout=args.timeout)
            if not r.ended:
                rc = 1
            out = sys.stdout.buffer
            if args.what == "json":
                s = r.summary()
                s["body"] = bytes(r.body).decode("latin-1")
                out.write(json.dumps(s).encode() + b"\n")
            elif args.what == "status":
                out.write(("%s\n" % r.status).encode())
            elif args.what == "headers":
                for n, v in r.headers:
                    out.write(("%s: %s\n" % (n, v)).encode("latin-1"))
            elif args.what == "body":
                out.write(bytes(r.body))
            else:
                out.write(bytes(r.stdout))
            out.flush()
            if r.eof and i + 1 < args.repeat:
                rc = 1
                break
    return rc


if __name__ == "__main__":
    sys.exit(main())
