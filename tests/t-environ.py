"""SPEC "environ": every point, through our own FastCGI client."""

import json

import wftest as w
from wftest import check, eq
from wftest import fcgi as fc


def environ_of(server, params, body=b"", **kw):
    r = server.request(params, body, **kw)
    if not eq(r.status, 200, "status of echo_environ"):
        return None, r
    return json.loads(bytes(r.body).decode("ascii")), r


HIGH = bytes(range(0x80, 0x100))


def test_latin1_roundtrip():
    with w.serve(w.app("echo_environ")) as s:
        path = b"/caf\xe9/\x80\x81\xfe\xff/" + HIGH
        header = b"v:" + HIGH + b" \x01\x7f end"
        params = fc.default_params(path=path, query=b"a=\xe9&b=%FF",
                                   extra=[(b"HTTP_X_LATIN", header),
                                          (b"HTTP_X_\xc9T\xc9", b"name-with-high-bytes")])
        d, _ = environ_of(s, params)
        if d is None:
            return
        env, types = d["environ"], d["types"]
        eq(env.get("PATH_INFO"), path.decode("latin-1"), "PATH_INFO decoded latin-1")
        eq(env.get("QUERY_STRING"), "a=\xe9&b=%FF", "QUERY_STRING decoded latin-1")
        eq(env.get("HTTP_X_LATIN"), header.decode("latin-1"), "header value decoded latin-1")
        eq(env.get("HTTP_X_\xc9T\xc9"), "name-with-high-bytes", "param name decoded latin-1")
        # every param is a str, and nothing sent is dropped or changed
        for name, value in params:
            k = name.decode("latin-1")
            eq(types.get(k), "str", "type of environ[%r]" % k)
            eq(env.get(k), value.decode("latin-1"), "environ[%r]" % k)
        # nothing invented except what PEP 3333 requires (and our SPEC)
        allowed = {n.decode("latin-1") for n, _ in params}
        for k in env:
            if k.startswith("wsgi.") or k in allowed:
                continue
            if k in ("CONTENT_TYPE", "CONTENT_LENGTH") and env[k] == "":
                continue   # PEP 3333: may be empty or absent
            check(False, "unexpected environ key invented: %r=%r" % (k, env[k]))


def test_every_byte_in_a_value():
    """A header value of all 256 byte values, NUL included, arrives whole
    (libfcgi hands params over as C strings: the server takes their length
    from the records), at once and split into 1-byte records."""
    every = bytes(range(256))
    with w.serve(w.app("echo_environ")) as s:
        params = fc.default_params(path="/nul", extra=[(b"HTTP_X_EVERY", every),
                                                        (b"HTTP_X_LONE_NUL", b"\x00"),
                                                        (b"HTTP_X_AFTER", b"after")])
        for sizes in (None, 1):
            d, _ = environ_of(s, params, params_sizes=sizes)
            if d is None:
                return
            env = d["environ"]
            eq(env.get("HTTP_X_EVERY"), every.decode("latin-1"),
               "every byte 0..255 in a value, NUL included (records split: %s)" % sizes)
            eq(env.get("HTTP_X_LONE_NUL"), "\x00", "a value that is one NUL byte")
            eq(env.get("HTTP_X_AFTER"), "after", "the next param is intact")


def test_params_split_in_tiny_records():
    """PARAMS cut into 1-byte and odd-sized records (length prefixes split
    across records), with a long value needing 4-byte lengths."""
    with w.serve(w.app("echo_environ")) as s:
        long_value = ("L" * 300 + "\xe9" * 200).encode("latin-1")
        params = fc.default_params(path="/split",
                                   extra=[(b"HTTP_X_LONG", long_value),
                                          (b"HTTP_X_" + b"N" * 200, b"long-name")])
        for sizes in (1, [1, 2, 3], 7, [127, 128, 129], 4):
            d, _ = environ_of(s, params, params_sizes=sizes)
            if d is None:
                continue
            env = d["environ"]
            eq(env.get("HTTP_X_LONG"), long_value.decode("latin-1"),
               "4-byte-length value with PARAMS record sizes %r" % (sizes,))
            eq(env.get("HTTP_X_" + "N" * 200), "long-name",
               "long name with PARAMS record sizes %r" % (sizes,))
            eq(env.get("PATH_INFO"), "/split", "PATH_INFO with sizes %r" % (sizes,))


def test_duplicates_last_wins():
    with w.serve(w.app("echo_environ")) as s:
        params = fc.default_params(path="/first", extra=[
            (b"HTTP_X_DUP", b"one"), (b"HTTP_X_DUP", b"two"),
            (b"HTTP_X_DUP", b"three"), (b"PATH_INFO", b"/last")])
        d, _ = environ_of(s, params)
        if d:
            eq(d["environ"].get("HTTP_X_DUP"), "three", "duplicate param: last wins")
            eq(d["environ"].get("PATH_INFO"), "/last", "duplicate PATH_INFO: last wins")


def test_missing_cgi_vars():
    """Only REQUEST_METHOD sent: SCRIPT_NAME/PATH_INFO/QUERY_STRING become ''
    and SERVER_NAME/SERVER_PORT/SERVER_PROTOCOL are present anyway."""
    with w.serve(w.app("echo_environ")) as s:
        for params in ([(b"REQUEST_METHOD", b"GET")], []):
            if not params and w.VALIDATE:
                continue
            d, _ = environ_of(s, params)
            if not d:
                continue
            env, types = d["environ"], d["types"]
            for k in ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING"):
                eq(env.get(k), "", "missing %s (params %r)" % (k, params))
            for k in ("SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REQUEST_METHOD"):
                check(k in env, "%s always present (params %r)" % (k, params))
                eq(types.get(k), "str", "type of %s" % k)
            if params:
                eq(env.get("REQUEST_METHOD"), "GET", "REQUEST_METHOD kept")


def test_wsgi_keys():
    with w.serve(w.app("echo_environ")) as s:
        d, _ = environ_of(s, fc.default_params())
        if not d:
            return
        env, types, extra = d["environ"], d["types"], d["extra"]
        eq(env.get("wsgi.version"), [1, 0], "wsgi.version")
        eq(types.get("wsgi.version"), "tuple", "type of wsgi.version")
        eq(env.get("wsgi.url_scheme"), "http", "wsgi.url_scheme default")
        eq(env.get("wsgi.run_once"), False, "wsgi.run_once under FastCGI")
        eq(env.get("wsgi.multithread"), False, "wsgi.multithread with 1 thread")
        eq(env.get("wsgi.multiprocess"), False,
           "wsgi.multiprocess with one process owning the socket")
        eq(env.get("wsgi.input_terminated"), True, "wsgi.input_terminated")
        for k in ("wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess",
                  "wsgi.input_terminated"):
            eq(types.get(k), "bool", "type of %s" % k)
        eq(sorted(extra["input_methods"]),
           sorted(["read", "readline", "readlines", "__iter__"]), "wsgi.input methods")
        eq(sorted(extra["errors_methods"]), sorted(["write", "writelines", "flush"]),
           "wsgi.errors methods")
        eq(extra["file_wrapper_callable"], True, "wsgi.file_wrapper callable")
        # proof that WF_TEST_VALIDATE reached the apps: the validator wraps
        # wsgi.input in its InputWrapper
        eq(types.get("wsgi.input") == "InputWrapper", w.VALIDATE,
           "apps wrapped by wsgiref.validate exactly when WF_TEST_VALIDATE=1")


def test_multithread_flag():
    with w.serve(w.app("echo_environ"), ["-t", "4"]) as s:
        d, _ = environ_of(s, fc.default_params())
        if d:
            eq(d["environ"].get("wsgi.multithread"), True, "wsgi.multithread with -t 4")
            eq(d["environ"].get("wsgi.run_once"), False, "wsgi.run_once with -t 4")


def test_url_scheme():
    cases = [
        ([(b"HTTPS", b"on")], "https"),
        ([(b"HTTPS", b"ON")], "https"),
        ([(b"HTTPS", b"On")], "https"),
        ([(b"HTTPS", b"1")], "https"),
        ([(b"HTTPS", b"off")], "http"),
        ([(b"HTTPS", b"")], "http"),
        ([(b"REQUEST_SCHEME", b"https")], "https"),
        ([(b"REQUEST_SCHEME", b"http")], "http"),
        ([], "http"),
    ]
    with w.serve(w.app("echo_environ")) as s:
        for extra, want in cases:
            d, _ = environ_of(s, fc.default_params(extra=extra))
            if d:
                eq(d["environ"].get("wsgi.url_scheme"), want, "wsgi.url_scheme for %r" % extra)
                for n, v in extra:   # the params themselves stay as sent
                    eq(d["environ"].get(n.decode()), v.decode(), "param %r kept" % n)
    with w.serve(w.app("echo_environ"), ["--url-scheme", "https"]) as s:
        d, _ = environ_of(s, fc.default_params())
        if d:
            eq(d["environ"].get("wsgi.url_scheme"), "https", "--url-scheme https")
    with w.serve(w.app("echo_environ"), ["--url-scheme", "http"]) as s:
        d, _ = environ_of(s, fc.default_params(extra=[(b"HTTPS", b"on")]))
        if d:
            eq(d["environ"].get("wsgi.url_scheme"), "http",
               "--url-scheme http forces http even with HTTPS=on")


def test_auth_passthrough():
    with w.serve(w.app("echo_environ")) as s:
        extra = [(b"REMOTE_USER", b"alice"), (b"AUTH_TYPE", b"Basic"),
                 (b"HTTP_AUTHORIZATION", b"Basic YWxpY2U6c2VjcmV0"),
                 (b"HTTP_COOKIE", b"a=1; b=2")]
        d, _ = environ_of(s, fc.default_params(extra=extra))
        if d:
            for n, v in extra:
                eq(d["environ"].get(n.decode()), v.decode(), "%s passes through" % n.decode())


def test_script_name_option():
    """--script-name: SCRIPT_NAME becomes the prefix, PATH_INFO the rest of
    the path (for servers that send the whole path in SCRIPT_NAME)."""
    with w.serve(w.app("echo_environ"), ["--script-name", "/app"]) as s:
        params = [(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b"/app/foo/bar"),
                  (b"REQUEST_URI", b"/app/foo/bar?x=1"), (b"QUERY_STRING", b"x=1"),
                  (b"SERVER_NAME", b"localhost"), (b"SERVER_PORT", b"80"),
                  (b"SERVER_PROTOCOL", b"HTTP/1.1")]
        d, _ = environ_of(s, params)
        if d:
            eq(d["environ"].get("SCRIPT_NAME"), "/app", "SCRIPT_NAME with --script-name")
            eq(d["environ"].get("PATH_INFO"), "/foo/bar", "PATH_INFO with --script-name")
            eq(d["environ"].get("QUERY_STRING"), "x=1", "QUERY_STRING with --script-name")


def test_many_params():
    """A big PARAMS stream (500 params, ~300 KiB) all arrive."""
    with w.serve(w.app("echo_environ")) as s:
        extra = [(b"HTTP_X_P%d" % i, (b"%d-" % i) * 200) for i in range(500)]
        d, _ = environ_of(s, fc.default_params(extra=extra))
        if d:
            missing = [n for n, v in extra
                       if d["environ"].get(n.decode()) != v.decode()]
            eq(missing, [], "params lost or changed among 500")


if __name__ == "__main__":
    w.main()
