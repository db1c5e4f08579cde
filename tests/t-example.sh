#!/bin/sh
# contrib/example/app.py: loads (--check), serves its page, echoes a form
# POST, answers /health and 404 -- plain and under wsgiref.validate.
. "$srcdir/tests/lib.sh"
need_wsgi_fcgi
EX=$WF_TOP/contrib/example/app.py

run_bounded 30 "$WSGI_FCGI" --check "$EX"
assert_eq 0 "$RUN_STATUS" "--check contrib/example/app.py"

# the example wrapped by wsgiref.validate, loaded from its real path
cat >"$T/validated.py" <<PY
import importlib.util
from wsgiref.validate import validator
spec = importlib.util.spec_from_file_location("wf_example", "$EX")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
application = validator(mod.application)
PY

for variant in "$EX" "$T/validated.py"; do
    name=$(basename "$variant" .py)
    S=$T/$name.sock
    serve "$name" "unix:$S" "$variant" || continue
    out=$(fcgi "unix:$S" --print stdout --timeout 30 | tr -d '\r')
    assert_contains "$out" "Status: 200" "$name: GET / status"
    assert_contains "$out" "Content-Type: text/html; charset=utf-8" "$name: GET / content type"
    assert_contains "$out" "wsgi-fcgi is serving this page" "$name: GET / page"
    assert_contains "$out" "<th>PATH_INFO</th><td>/</td>" "$name: GET / shows PATH_INFO"

    form='name=J%C3%B6rg&message=%3Cb%3Ehi%3C%2Fb%3E'
    out=$(fcgi "unix:$S" --print stdout --timeout 30 -m POST -d "$form" \
          -p CONTENT_TYPE=application/x-www-form-urlencoded | tr -d '\r')
    assert_contains "$out" "Status: 200" "$name: POST status"
    assert_contains "$out" "<b>name</b>: Jörg" "$name: POST echoes a UTF-8 field"
    assert_contains "$out" "<b>message</b>: &lt;b&gt;hi&lt;/b&gt;" "$name: POST echo is escaped"

    assert_eq "ok" "$(fcgi "unix:$S" --print body --path /health --timeout 30)" "$name: /health"
    assert_eq 404 "$(status_of "unix:$S" --path /nope)" "$name: unknown path is 404"
    assert_eq 405 "$(status_of "unix:$S" -m DELETE)" "$name: DELETE is 405"
    stop_pid "$SERVER_PID"
    assert_eq 0 "$STOP_STATUS" "$name: exit status after SIGTERM"
    assert_not_contains "$(cat "$T/$name.log")" "AssertionError" "$name: no validator assertion"
    assert_not_contains "$(cat "$T/$name.log")" "Traceback" "$name: no traceback"
done
finish
