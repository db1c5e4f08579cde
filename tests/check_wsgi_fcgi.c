/*
 * check_wsgi_fcgi.c - the Check runner: one suite per tests/check_<module>.c.
 *
 * Every test runs in its own forked child (Check's default CK_FORK mode),
 * so the Python suites initialise the interpreter in checked fixtures and
 * this main never touches Python.  CK_RUN_SUITE / CK_RUN_CASE select a
 * suite or a test case; CK_VERBOSITY=verbose lists every test; CK_FORK=no
 * is for a debugger only (the Python fixtures initialise and finalise the
 * interpreter per test, which a single process cannot repeat).
 */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>

#include "check_suites.h"

int main(void)
{
    SRunner *sr = srunner_create(suite_config());
    int failed;

    srunner_add_suite(sr, suite_listen());
    srunner_add_suite(sr, suite_fcgi_walk());
    srunner_add_suite(sr, suite_acl());
    srunner_add_suite(sr, suite_scgi());
    srunner_add_suite(sr, suite_response());
    srunner_add_suite(sr, suite_environ());
    srunner_add_suite(sr, suite_input());

    srunner_run_all(sr, CK_SILENT);
    srunner_print(sr, getenv("CK_VERBOSITY") ? CK_ENV : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
