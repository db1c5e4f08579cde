"""bad_syntax: a file that does not compile (for --check)."""
def application(environ, start_response)
    return []
