"""The CGI-style response both test clients read back (FastCGI STDOUT, the
SCGI answer): "Status:" plus headers, a blank line, the body.

A subclass supplies _raw() (the bytes received); this class parses them
once, lazily, into status, reason, headers (a list, order kept), body and
whether the head was well formed."""


class CGIResponse:
    _parsed = None

    def _raw(self):
        raise NotImplementedError

    def _parse(self):
        if self._parsed is not None:
            return self._parsed
        data = bytes(self._raw())
        status, reason, headers, body, ok = None, None, [], b"", False
        sep, seplen = data.find(b"\r\n\r\n"), 4
        nsep = data.find(b"\n\n")
        if nsep >= 0 and (sep < 0 or nsep < sep):
            sep, seplen = nsep, 2
        if sep >= 0:
            ok = True
            head = data[:sep].replace(b"\r\n", b"\n")
            body = data[sep + seplen:]
            for line in head.split(b"\n"):
                name, colon, value = line.partition(b":")
                if not colon or not name:
                    ok = False
                    continue
                name = name.decode("latin-1")
                value = value.strip(b" \t").decode("latin-1")
                if name.lower() == "status" and status is None:
                    code, _, reason = value.partition(" ")
                    try:
                        status = int(code)
                    except ValueError:
                        ok = False
                        status = -1
                    continue
                headers.append((name, value))
            if status is None and ok:
                status, reason = 200, "OK"     # the CGI default
        self._parsed = (status, reason, headers, body, ok)
        return self._parsed

    @property
    def status(self):
        return self._parse()[0]

    @property
    def reason(self):
        return self._parse()[1]

    @property
    def headers(self):
        return self._parse()[2]

    @property
    def body(self):
        return self._parse()[3]

    @property
    def well_formed(self):
        return self._parse()[4]

    def header(self, name, default=None):
        """The last value of a header (case-insensitive), or default."""
        val = default
        for n, v in self.headers:
            if n.lower() == name.lower():
                val = v
        return val

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]
