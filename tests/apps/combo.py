"""combo: dispatches on ?app=NAME to another test app (echo_environ,
echo_body, big_download, hello) without touching PATH_INFO, so that one
wsgi-fcgi behind one nginx location can serve several test apps.

Not wrapped by wsgiref.validate itself: the apps it calls already wrap
themselves under WF_TEST_VALIDATE=1."""
import os
import sys
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import big_download  # noqa: E402
import echo_body  # noqa: E402
import echo_environ  # noqa: E402
import hello  # noqa: E402

APPS = {
    "environ": echo_environ.application,
    "body": echo_body.application,
    "download": big_download.application,
    "hello": hello.application,
}


def application(environ, start_response):
    name = parse_qs(environ.get("QUERY_STRING", "")).get("app", ["hello"])[0]
    return APPS[name](environ, start_response)
