"""bad_header: calls start_response with a status or header that PEP 3333
forbids, chosen by ?case=NAME (see CASES); "ok" is the correct control.
The server must refuse it (500) and nothing of it may reach the wire.

Deliberately broken: never wrapped by wsgiref.validate (the validator
would refuse these itself, which is not what is being tested).
"""
from urllib.parse import parse_qs

CT = ("Content-Type", "text/plain")

CASES = {
    "ok": ("200 OK", [CT, ("X-Fine", "fine")]),
    # header values
    "crlf_value": ("200 OK", [CT, ("X-Bad", "a\r\nX-Injected: 1")]),
    "lf_value": ("200 OK", [CT, ("X-Bad", "a\nX-Injected: 1")]),
    "cr_value": ("200 OK", [CT, ("X-Bad", "a\rX-Injected: 1")]),
    "nul_value": ("200 OK", [CT, ("X-Bad", "a\x00X-Injected: 1")]),
    "nonlatin_value": ("200 OK", [CT, ("X-Bad", "X-Injected \u2603")]),
    "bytes_value": ("200 OK", [CT, ("X-Bad", b"X-Injected")]),
    "int_value": ("200 OK", [CT, ("X-Injected", 5)]),
    # header names
    "crlf_name": ("200 OK", [CT, ("X-Bad\r\nX-Injected", "1")]),
    "lf_name": ("200 OK", [CT, ("X-Bad\nX-Injected", "1")]),
    "nul_name": ("200 OK", [CT, ("X-Injected\x00", "1")]),
    "space_name": ("200 OK", [CT, ("X Injected", "1")]),
    "colon_name": ("200 OK", [CT, ("X-Injected:", "1")]),
    "empty_name": ("200 OK", [CT, ("", "X-Injected")]),
    "paren_name": ("200 OK", [CT, ("X-(Injected)", "1")]),
    "nonlatin_name": ("200 OK", [CT, ("X-Injected-\u2603", "1")]),
    "bytes_name": ("200 OK", [CT, (b"X-Injected", "1")]),
    "triple": ("200 OK", [CT, ("X-Injected", "1", "2")]),
    # hop-by-hop headers
    "hop_connection": ("200 OK", [CT, ("Connection", "X-Injected")]),
    "hop_keep_alive": ("200 OK", [CT, ("Keep-Alive", "X-Injected")]),
    "hop_transfer_encoding": ("200 OK", [CT, ("Transfer-Encoding", "X-Injected")]),
    "hop_te": ("200 OK", [CT, ("TE", "X-Injected")]),
    "hop_trailers": ("200 OK", [CT, ("Trailers", "X-Injected")]),
    "hop_upgrade": ("200 OK", [CT, ("Upgrade", "X-Injected")]),
    "hop_proxy_authenticate": ("200 OK", [CT, ("Proxy-Authenticate", "X-Injected")]),
    "hop_proxy_authorization": ("200 OK", [CT, ("proxy-authorization", "X-Injected")]),
    # status lines
    "status_code_only": ("200", [CT]),
    "status_two_digits": ("20 OK", [CT]),
    "status_four_digits": ("2000 OK", [CT]),
    "status_letters": ("abc OK", [CT]),
    "status_no_space": ("200OK", [CT]),
    "status_crlf": ("200 OK\r\nX-Injected: 1", [CT]),
    "status_lf": ("200 OK\nX-Injected: 1", [CT]),
    "status_nul": ("200 OK\x00X-Injected", [CT]),
    "status_nonlatin": ("200 X-Injected \u2603", [CT]),
    "status_bytes": (b"200 X-Injected", [CT]),
    "status_int": (200, [CT]),
    "status_empty": ("", [CT]),
    "headers_not_list": ("200 OK", "X-Injected: 1"),
}


def application(environ, start_response):
    case = parse_qs(environ.get("QUERY_STRING", "")).get("case", ["ok"])[0]
    status, headers = CASES[case]
    start_response(status, headers)
    return [b"should-not-appear"] if case != "ok" else [b"fine\n"]
