"""Minimal Django settings for the framework matrix: no database, no
middleware but CommonMiddleware, DEBUG off."""
DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "wsgi-fcgi-matrix-test-only"
ROOT_URLCONF = "django_urls"
INSTALLED_APPS = []
DATABASES = {}
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
USE_I18N = False
APPEND_SLASH = False
DEFAULT_CHARSET = "utf-8"
