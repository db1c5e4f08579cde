"""not_callable: `application` is not callable (for --check)."""
application = "I am a string"
