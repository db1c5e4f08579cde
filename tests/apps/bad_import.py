"""bad_import: imports a module that does not exist (for --check)."""
import wf_no_such_module_xyz  # noqa: F401


def application(environ, start_response):
    return []
