"""KubeLab settings, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def database_from_url(url: str) -> dict[str, object]:
    """Turn DATABASE_URL (sqlite:////abs/path or postgres://user@host:port/db) into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("//"):
            path = path[1:]
        return sqlite_database(Path(path))
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "kubelab",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 0,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported (sqlite or postgres)"
    )


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # WAL is a property of the file, switched on once (clusters/apps.py); asking for it on
            # every new connection made each page request queue behind the writer.
            "init_command": "PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(path.with_name("test_" + path.name))},
        # Reuse connections: opening one (and its PRAGMAs) per database_sync_to_async call is costly.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
    }


KUBELAB_ENV = os.environ.get("KUBELAB_ENV", "development")
if KUBELAB_ENV not in ("development", "production"):
    raise ImproperlyConfigured("KUBELAB_ENV must be 'development' or 'production'")
PRODUCTION = KUBELAB_ENV == "production"

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when KUBELAB_ENV=production")
    SECRET_KEY = "kubelab-development-only-not-secret"

DEBUG = envbool("DEBUG", default=False)

_hosts = os.environ.get("ALLOWED_HOSTS", "")
if _hosts:
    ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()]
elif PRODUCTION:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when KUBELAB_ENV=production")
else:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "django_ace",
    "clusters",
    "workloads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kubelab.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kubelab.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "kubelab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_db_url = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_db_url)
    if _db_url
    else sqlite_database(BASE_DIR / "kubelab.sqlite3")
}

_redis = os.environ.get("REDIS_URL", "")
if _redis:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [_redis], "prefix": os.environ.get("REDIS_PREFIX", "kubelab")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "kubelab.channel_layer.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Static files are served by WhiteNoise (from the app folders while developing; from
# `manage.py collectstatic` output in production).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
if PRODUCTION:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# Classrooms. Sign-up lets anyone become an instructor (switch off for a school server:
# KUBELAB_SIGNUP=0, then `manage.py createsuperuser` / the admin make instructors). The open
# sandbox lets every visitor drive clusters that are not classrooms (the demo) — right on a laptop,
# wrong on a shared server, so production closes it unless asked.
KUBELAB_SIGNUP = envbool("KUBELAB_SIGNUP", default=True)
KUBELAB_OPEN_SANDBOX = envbool("KUBELAB_OPEN_SANDBOX", default=not PRODUCTION)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classrooms"
LOGOUT_REDIRECT_URL = "index"

# Rate limits per client (session or address), per minute.
MAX_APPLIES_PER_MINUTE = int(os.environ.get("KUBELAB_MAX_APPLIES_PER_MINUTE", "120"))
MAX_PREVIEWS_PER_MINUTE = int(os.environ.get("KUBELAB_MAX_PREVIEWS_PER_MINUTE", "300"))
MAX_ACTIONS_PER_MINUTE = int(os.environ.get("KUBELAB_MAX_ACTIONS_PER_MINUTE", "240"))
# Joins are counted per address before a session exists: a whole class behind one school NAT
# joins within a minute, so this is per address and generous (a classroom holds at most 500).
MAX_JOINS_PER_MINUTE = int(os.environ.get("KUBELAB_MAX_JOINS_PER_MINUTE", "600"))

if _redis:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis,
            "KEY_PREFIX": os.environ.get("REDIS_PREFIX", "kubelab"),
        }
    }

# Sessions are read on every request (who is asking): from the cache, written through to the DB.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # API tokens are in request paths (clusters.credentials): no log line may show one.
    "filters": {"redact_tokens": {"()": "kubelab.security.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"kubelab": {"level": "INFO"}, "clusters": {"level": "INFO"}},
}
