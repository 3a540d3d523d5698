"""Settings for Trade Pilot, read from the environment.

`TRADEPILOT_MODE` is `demo`, `dev` (default when DEBUG) or `production`. Outside demo/debug a `SECRET_KEY` is
required; the database comes from `DATABASE_URL` (SQLite under var/ when unset).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("TRADEPILOT_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("TRADEPILOT_VAR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


MODE = os.environ.get("TRADEPILOT_MODE", "production")
DEMO_MODE = MODE == "demo"
DEBUG = env_bool("DEBUG", default=MODE in {"demo", "dev"})

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or DEMO_MODE or MODE == "test":
        SECRET_KEY = "tradepilot-insecure-development-key-not-for-production-use-0123456789"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set outside demo/debug mode.")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if DEBUG or DEMO_MODE or MODE == "test":
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver"]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "tradepilot.core",
    "tradepilot.enterprises",
    "tradepilot.reporting",
    "django_tasks",
    "django_tasks_db",
    "tradepilot.analytics",
    "tradepilot.governance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tradepilot.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tradepilot.core.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tradepilot.urls"
WSGI_APPLICATION = "tradepilot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tradepilot.core.context_processors.platform",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tradepilot.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout keep the demo server and background commands from tripping over each other.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [] if (DEMO_MODE or MODE == "test") else [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if (DEBUG or DEMO_MODE) else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@tradepilot.local")

# Uploads: the import path streams from a temporary file, so the in-memory limit stays small.
TRADEPILOT_MAX_UPLOAD_BYTES = int(os.environ.get("TRADEPILOT_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG and not DEMO_MODE and MODE != "test":
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

PLATFORM_NAME = _("Trade Pilot")

# Background work (analytics refresh, bulletins): django-tasks with its database backend, so the queue lives in
# the same database on SQLite and PostgreSQL; `tradepilot db_worker` runs it (`tradepilot demo` starts one).
# Queues: "default" (analytics refresh, quick) and "publication" (protected SDMX cubes, slow); run a worker per
# queue so a publication never delays a refresh.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "publication"]}}
# Seconds between a change and the recomputation of the year's SDMX cubes (a burst of approvals: one run).
ANALYTICS_PUBLICATION_DELAY = int(os.environ.get("TRADEPILOT_ANALYTICS_PUBLICATION_DELAY", "60"))

# Analytics store: Hive-partitioned Parquet under ANALYTICS_ROOT read by DuckDB ("duckdb"), or the fact tables in
# the transactional database ("database", e.g. PostgreSQL only). See docs/architecture.md.
ANALYTICS_ROOT = Path(os.environ.get("TRADEPILOT_ANALYTICS_ROOT", VAR_DIR / "analytics"))
ANALYTICS_ENGINE = os.environ.get("TRADEPILOT_ANALYTICS_ENGINE", "duckdb")
# Results of DuckDB queries kept per process, keyed by the partition files' state (0 turns the cache off).
ANALYTICS_CACHE_ENTRIES = int(os.environ.get("TRADEPILOT_ANALYTICS_CACHE_ENTRIES", "512"))
# Statistical disclosure control for every table shown outside the ministry and every export.
ANALYTICS_DISCLOSURE = {
    "min_contributors": int(os.environ.get("TRADEPILOT_SDC_MIN_CONTRIBUTORS", "3")),
    "dominance": os.environ.get("TRADEPILOT_SDC_DOMINANCE", "0.85"),
}
