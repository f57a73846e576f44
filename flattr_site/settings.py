"""Settings for the open Flattr, read from the environment only (django-environ).

Importing this module starts nothing. With DEBUG off, DATABASE_URL is
required (it refuses to start without it). In development, with no
DATABASE_URL / REDIS_URL it points at a local PostgreSQL and Redis;
`scripts/devctl.py` (`make run`, `make test`) and `manage.py` with DEBUG on
start embedded ones under ``.data/`` first, so a newcomer needs nothing but
Python and `make run`. See README.md for the full table of variables.

Sections, by concern: paths and core, applications and requests, database,
cache, Celery, security, authentication, API and OAuth2, internationalisation,
static files, money and payments, payouts, fetching other sites,
notifications, e-mail, logging and errors, metrics.
"""

import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# --- Paths and core -------------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
DATA_DIR = Path(env.str("FLATTR_DATA_DIR", default=str(BASE_DIR / ".data")))

# Set by the test settings module (tests/settings.py), which pytest loads.
TESTING = env.bool("FLATTR_TESTING", default=False)
DEBUG = env.bool("DEBUG", default=False)
# Development only: with DEBUG off the platform refuses to start with it, or
# with any key Django's `check --deploy` would call weak (FLATTR_TESTING does
# not lower the bar: the test settings bring their own strong key).
DEV_SECRET_KEY = "django-insecure-dev-only-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")


def _secret_key_problem(key: str) -> str:
    """Why ``key`` cannot sign anything in production, or ""."""
    if not key or key == DEV_SECRET_KEY:
        return "is not set"
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        return "is too weak"
    return ""


if not DEBUG and (_problem := _secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"SECRET_KEY {_problem}: with DEBUG off, set the SECRET_KEY environment variable to a "
        "random value of at least 50 characters with at least 5 different ones, not starting "
        "with django-insecure- (e.g. `openssl rand -base64 48`)."
    )
if not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY  # DEBUG on
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Applications and requests --------------------------------------------

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
    "core",
    "flattr_site",
    "accounts",
    "ledger",
    "buttons",
    "payments",
    "payments.withdrawals",
    "payouts",
    "claims",
    "notifications",
    "ops",
    "funding",
    "likes",
    "api",
    "oauth2_provider",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # Every request gets an id (X-Request-ID, honoured from a proxy), carried
    # into the Celery tasks it queues and into every log line.
    "flattr_site.observability.RequestIdMiddleware",
    "ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # 400 for NUL, lone surrogates, deep JSON, huge page numbers.
    "flattr_site.middleware_input.InputGuardMiddleware",
    # 503 + Retry-After while the database is away.
    "flattr_site.middleware_outage.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy and Permissions-Policy (the Security section).
    "csp.middleware.CSPMiddleware",
    "flattr_site.middleware.PermissionsPolicyMiddleware",
    "flattr_site.middleware.PopupOpenerMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Link: <...>; rel="payment" on thing pages and profiles.
    "buttons.middleware.PaymentLinkMiddleware",
    # Read your own writes past the replica (core/db_router.py).
    "core.db_router.ReplicaStickyMiddleware",
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

# --- Database -------------------------------------------------------------

# Required in production. In development (DEBUG on) and tests, unset names a
# local PostgreSQL: devctl.py (`make run`, `make test`), and manage.py with
# DEBUG on, start embedded servers and set the URL before Django reads it.
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DATABASE_URL is not set: with DEBUG off, set the DATABASE_URL environment "
            "variable to your PostgreSQL (postgres://user:password@host:5432/name)."
        )
    DATABASE_URL = "postgres:///flattr"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A pooled connection is checked before a request reuses it, so one that
# PostgreSQL closed (a restart) is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind a pooler in transaction mode (PgBouncer; docs/operations.md), say so
# with DATABASE_POOLER=1: each transaction may then run on another server
# connection, so psycopg never prepares statements (they would outlive it).
DATABASE_POOLER = env.bool("DATABASE_POOLER", default=False)
if DATABASE_POOLER:
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# The server itself, past the pooler: `manage.py migrate` uses it when set
# (and the restore drill dumps and restores through it).
DATABASE_DIRECT_URL = env.str("DATABASE_DIRECT_URL", default="")
if DATABASE_DIRECT_URL and sys.argv[1:2] == ["migrate"]:
    DATABASES["default"] = {
        **env.db_url_config(DATABASE_DIRECT_URL),
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }
# A streaming replica for the heavy reads that tolerate a second of lag
# (core/db_router.py; docs/operations.md, "Read replicas"): only views marked
# @replica_reads read it, never inside a transaction, never for a person who
# wrote in the last FLATTR_REPLICA_STICKY_SECONDS, and not while a probe
# (cached FLATTR_REPLICA_PROBE_SECONDS) finds it down or more than
# FLATTR_REPLICA_MAX_LAG_SECONDS behind. Tests read the primary (MIRROR).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    if DATABASE_POOLER:
        DATABASES["replica"]["OPTIONS"]["prepare_threshold"] = None
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
FLATTR_REPLICA_MAX_LAG_SECONDS = env.float("FLATTR_REPLICA_MAX_LAG_SECONDS", default=5.0)
FLATTR_REPLICA_PROBE_SECONDS = env.float("FLATTR_REPLICA_PROBE_SECONDS", default=5.0)
FLATTR_REPLICA_STICKY_SECONDS = env.int("FLATTR_REPLICA_STICKY_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------

# Unset: a Redis on this host (devctl.py and manage.py with DEBUG on set it
# to their embedded one).
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        # Redis only holds what PostgreSQL can rebuild: while it is away, reads
        # miss, writes are dropped and rate limits fail open (core/cache.py).
        "BACKEND": "core.cache.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="flattr"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# django-ratelimit: a cache that cannot answer lets requests through.
RATELIMIT_FAIL_OPEN = True

# --- Celery ---------------------------------------------------------------


def celery_url(url: str) -> str:
    """Celery (kombu) spells a Redis unix socket ``redis+socket://PATH``."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://").split("?")[0]
    return url


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or celery_url(REDIS_URL)
# Tasks are acknowledged late, so a task whose worker dies is delivered
# again; Redis redelivers an unacknowledged task after visibility_timeout,
# which must exceed the longest task (a payout compute of ten million flattrs
# takes minutes; posting chunks seconds). The payout sweeper (below) brings a
# killed worker's chunks back within minutes; the redelivery is the second net.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The worker logs through LOGGING (below) instead of replacing the root logger.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues (docs/operations.md, "Workers and queues"): what talks to strangers'
# servers waits on its own queues, so a slow site can never hold the workers
# that post payouts, pay withdrawals or send mail. Everything not routed here
# (money, beat tasks, event dispatch) stays on the default queue, "celery".
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "claims.tasks.claim_check": {"queue": "fetch"},
    "notifications.tasks.webhook_deliver": {"queue": "webhooks"},
    "notifications.tasks.email_send": {"queue": "mail"},
    "likes.tasks.likes_poll_due": {"queue": "fetch"},
    "likes.tasks.likes_account_poll": {"queue": "fetch"},
}
# Periodic tasks; each concern's section below adds its own. Beat's clock is
# the payout time zone, so the monthly tasks run on the month's boundaries.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

# --- Security -------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# HTTPS=1 in production behind TLS: secure cookies, HSTS, redirect.
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Proxies in front of the web processes that append the client's address to
# X-Forwarded-For (a load balancer: 1). 0 ignores the header. Both the flattr
# limits and allauth's login limits read the address through it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Content-Security-Policy by django-csp on every page. Inline scripts carry
# nonce="{{ request.csp_nonce }}"; no inline event handlers (onclick=...).
# Pages refuse to be framed; the button iframe (core.http.frameable)
# replaces frame-ancestors with *. SITE_URL is allowed for scripts and frames
# so the snippet preview works when the site is served under another name.
_site_origin = [SITE_URL] if SITE_URL else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, *_site_origin],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", *_site_origin],
        "frame-src": [SELF, *_site_origin],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# --- Authentication and accounts ------------------------------------------

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
# A taken e-mail is a form error at sign-up, not a silent e-mail.
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

# --- API and OAuth2 -------------------------------------------------------
# Flattr's REST API v2 at /rest/v2 and OAuth2 at /oauth (docs/api.md).

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Open Flattr REST API v2",
    "VERSION": "2.0.0",
    "DESCRIPTION": "Flattr's REST API v2 (developers.flattr.net) on Open Flattr. "
    "Errors are {error, error_description, error_uri}. See /developers/.",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/rest/v2",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Requests per clock hour per token (per IP address without one).
FLATTR_API_RATE_LIMIT = env.int("FLATTR_API_RATE_LIMIT", default=1000)
# Seconds a web process remembers a token's principal and marks in front of
# Redis (api/memo.py: emptied by every change through Redis pub/sub; 0: off).
FLATTR_API_MEMO_SECONDS = env.float("FLATTR_API_MEMO_SECONDS", default=1.0)
# Larger request bodies are refused with invalid_request before parsing.
FLATTR_API_MAX_BODY_BYTES = env.int("FLATTR_API_MAX_BODY_BYTES", default=64 * 1024)


def _pkce_required(client_id: str) -> bool:
    from api.oauth import pkce_required  # models are not ready at import time

    return pkce_required(client_id)


OAUTH2_PROVIDER = {
    "SCOPES": {
        "flattr": "Flattr things",
        "thing": "Create, update and delete things",
        "email": "Read the e-mail address",
        "extendedread": "Read private user attributes",
    },
    # No scope asked, none granted: such a token reads public data and /user.
    "DEFAULT_SCOPES": [],
    "OAUTH2_BACKEND_CLASS": "api.oauth.FlattrOAuthLibCore",
    # Reused codes revoke their tokens, a wrong PKCE verifier burns the code,
    # PKCE "plain" is refused before consent (api/oauth_codes.py).
    "OAUTH2_VALIDATOR_CLASS": "api.oauth_codes.FlattrOAuth2Validator",
    "OAUTH2_SERVER_CLASS": "api.oauth_codes.FlattrOAuthServer",
    # PKCE from public clients, optional for confidential ones.
    "PKCE_REQUIRED": _pkce_required,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    # The implicit grant (response_type=token) is refused: see docs/api.md.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    # Tokens are stored as SHA-256 checksums only; bearer tokens are read
    # from the Authorization header only; the authorization response names
    # its issuer (RFC 9207).
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=30 * 24 * 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": 365 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 120,
    # http stays for native apps' loopback callbacks (RFC 8252): the
    # registration service refuses http for any other host (api.services).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
}
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and one date-time format per language (flattr_site/formats/).
FORMAT_MODULE_PATH = ["flattr_site.formats"]
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

# --- Money and payments: wallets, flattrs, top-ups, withdrawals -----------

CURRENCY = env.str("CURRENCY", default="EUR")
FLATTR_MIN_BUDGET_CENTS = env.int("FLATTR_MIN_BUDGET_CENTS", default=200)
FLATTR_DEFAULT_BUDGET_CENTS = env.int("FLATTR_DEFAULT_BUDGET_CENTS", default=200)
FLATTR_MAX_BUDGET_CENTS = env.int("FLATTR_MAX_BUDGET_CENTS", default=100_000)
FLATTR_MIN_TOPUP_CENTS = env.int("FLATTR_MIN_TOPUP_CENTS", default=500)
FLATTR_MAX_TOPUP_CENTS = env.int("FLATTR_MAX_TOPUP_CENTS", default=50_000)
FLATTR_CLICK_RATE_PER_USER = env.str("FLATTR_CLICK_RATE_PER_USER", default="60/h")
FLATTR_CLICK_RATE_PER_IP = env.str("FLATTR_CLICK_RATE_PER_IP", default="300/h")
# Refused flattr attempts (empty wallet, already flattred...) per address;
# accepted ones count against FLATTR_CLICK_RATE_PER_IP.
FLATTR_REFUSED_RATE_PER_IP = env.str("FLATTR_REFUSED_RATE_PER_IP", default="1000/h")
# Largest staff wallet adjustment, either way, in cents (10,000.00 EUR).
FLATTR_MAX_ADJUSTMENT_CENTS = env.int("FLATTR_MAX_ADJUSTMENT_CENTS", default=1_000_000)

# "stripe" or "test"; empty: Stripe when STRIPE_SECRET_KEY is set, else the
# test-mode gateway (which refuses to move anything while DEBUG is off).
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")

# How supporters fund their budget (docs/payments.md, "Funding modes"):
# "wallet" (default): they top up a wallet the run spends; "after": nothing is
# held, each supporter is charged once a run is approved (the ``funding`` app).
FLATTR_FUNDING = env.str("FLATTR_FUNDING", default="wallet")
# SEPA Direct Debit: the pre-notification goes out at least this many days
# before the debit.
FLATTR_SEPA_NOTICE_DAYS = env.int("FLATTR_SEPA_NOTICE_DAYS", default=2)
# Days after a declined charge when it is tried again; then it is given up.
FLATTR_CHARGE_RETRY_DAYS = env.list("FLATTR_CHARGE_RETRY_DAYS", cast=int, default=[1, 3, 7])
# Creators are paid when a run's charges are final or this many days after
# approval, whichever comes first; later collections go in follow-ups.
FLATTR_TRANSFER_AFTER_DAYS = env.int("FLATTR_TRANSFER_AFTER_DAYS", default=7)
# All workers together stay under this many Stripe requests a second (one
# limiter in the cache). Stripe allows about 100 in live mode, 25 in test.
STRIPE_MAX_REQUESTS_PER_SECOND = env.float("STRIPE_MAX_REQUESTS_PER_SECOND", default=20.0)
# Tests and benchmarks point the stripe library at a local server.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")

FLATTR_MIN_WITHDRAWAL_CENTS = env.int("FLATTR_MIN_WITHDRAWAL_CENTS", default=1000)
FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = env.int(
    "FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS", default=20_000
)
# A withdrawal still "processing" this long after its last attempt is queued
# again by the sweeper (e.g. it was requested while the broker was down).
FLATTR_WITHDRAWAL_STUCK_MINUTES = env.int("FLATTR_WITHDRAWAL_STUCK_MINUTES", default=15)

CELERY_BEAT_SCHEDULE |= {
    "subscriptions-renew": {
        "task": "buttons.tasks.subscriptions_renew",
        "schedule": crontab(hour=0, minute=5),
    },
    # Month partitions of flattrs, three months ahead (docs/operations.md,
    # "Flattrs by month"); a missed day is made up by the next.
    "flattr-partitions-ensure": {
        "task": "buttons.tasks.flattr_partitions_ensure",
        "schedule": crontab(hour=0, minute=15),
    },
    "withdrawal-sweep-stuck": {
        "task": "payments.withdrawals.tasks.withdrawal_sweep_stuck",
        "schedule": crontab(minute="*/5"),
    },
    "topup-expire-pending": {
        "task": "payments.tasks.topup_expire_pending",
        "schedule": crontab(minute=7),
    },
}

# --- Payouts: the monthly split -------------------------------------------

PAYOUT_TIMEZONE = env.str("PAYOUT_TIMEZONE", default="UTC")
CELERY_TIMEZONE = PAYOUT_TIMEZONE
FLATTR_FEE_PERCENT = env.int("FLATTR_FEE_PERCENT", default=10)
FLATTR_UNSPENT_BUDGET = env.str("FLATTR_UNSPENT_BUDGET", default="keep")
FLATTR_UNCLAIMED_MONTHS = env.int("FLATTR_UNCLAIMED_MONTHS", default=6)
FLATTR_PAYOUT_AUTO_APPROVE = env.bool("FLATTR_PAYOUT_AUTO_APPROVE", default=False)
# How often the sweeper queues the chunks of approved runs that no worker
# holds (a worker that died mid-posting; see the Celery section).
FLATTR_PAYOUT_SWEEP_SECONDS = env.int("FLATTR_PAYOUT_SWEEP_SECONDS", default=120)
# The monthly split runs as this many branches side by side (PostgreSQL
# parallel workers: at most the server's max_parallel_workers of them).
FLATTR_PAYOUT_SPLIT_BRANCHES = env.int("FLATTR_PAYOUT_SPLIT_BRANCHES", default=2)

CELERY_BEAT_SCHEDULE |= {
    # Computes the run of the last closed month if it does not exist yet,
    # so a missed day heals itself the next day.
    "payout-compute-due": {
        "task": "payouts.tasks.payout_compute_due",
        "schedule": crontab(hour=2, minute=0),
    },
    "notifications-wallet-low": {
        "task": "payouts.tasks.wallet_low_remind",
        "schedule": crontab(hour=9, minute=0),
    },
    "payout-sweep": {
        "task": "payouts.tasks.payout_sweep",
        "schedule": FLATTR_PAYOUT_SWEEP_SECONDS,
    },
    # After mode: attempts left in flight, retries whose day has come, SEPA
    # results, transfers and recoveries of every open run (funding).
    "funding-sweep": {
        "task": "funding.tasks.funding_sweep",
        "schedule": crontab(minute="*/15"),
    },
}

# --- Fetching other sites (core/fetch.py) ---------------------------------
# Addresses that are not public are refused unless their host or network is
# listed here (tests, self-hosted intranets). Comma-separated.

FETCH_ALLOWED_HOSTS = env.list("FETCH_ALLOWED_HOSTS", default=[])
FETCH_ALLOWED_NETWORKS = env.list("FETCH_ALLOWED_NETWORKS", default=[])
FETCH_USER_AGENT = env.str("FETCH_USER_AGENT", default="")
FETCH_CONNECT_TIMEOUT = env.int("FETCH_CONNECT_TIMEOUT", default=5)
FETCH_READ_TIMEOUT = env.int("FETCH_READ_TIMEOUT", default=10)
FETCH_TOTAL_TIMEOUT = env.int("FETCH_TOTAL_TIMEOUT", default=20)

# --- Connected accounts: likes become flattrs (likes/, docs/connected-accounts.md)

GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com")
# Where GitHub's OAuth pages live (github.com, or a GitHub Enterprise host).
GITHUB_OAUTH_URL = env.str("GITHUB_OAUTH_URL", default="https://github.com")
GITHUB_CLIENT_ID = env.str("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET = env.str("GITHUB_CLIENT_SECRET", default="")
# Fernet key(s) for third-party tokens at rest, comma-separated, newest first
# (rotation). Empty with DEBUG on: a key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
FLATTR_LIKES_PER_MONTH = env.int("FLATTR_LIKES_PER_MONTH", default=50)
FLATTR_LIKES_POLL_MINUTES = env.int("FLATTR_LIKES_POLL_MINUTES", default=15)
# Each minute the accounts whose next poll has come are polled (likes/tasks.py):
# every account once per FLATTR_LIKES_POLL_MINUTES, staggered.
CELERY_BEAT_SCHEDULE |= {
    "likes-poll-due": {"task": "likes.tasks.likes_poll_due", "schedule": crontab(minute="*")},
}

# --- Notifications: digests, webhooks out ---------------------------------

# The total deadline of one webhook POST; a delivery's lease is this plus a
# margin (notifications/webhooks.py), so it outlasts the longest attempt.
WEBHOOK_TIMEOUT = env.int("WEBHOOK_TIMEOUT", default=10)

CELERY_BEAT_SCHEDULE |= {
    "notifications-digests": {
        "task": "notifications.tasks.digests_send",
        "schedule": crontab(hour=7, minute=0),
    },
    "notifications-webhook-retries": {
        "task": "notifications.tasks.webhook_retry_due",
        "schedule": crontab(minute="*"),
    },
    # The events hot paths queue in Redis (a flattr's), in batches
    # (notifications/queue.py); a burst also publishes one drain at once.
    "notifications-drain": {
        "task": "notifications.tasks.events_drain",
        "schedule": 5.0,
    },
    "notifications-sweep": {
        "task": "notifications.tasks.notifications_sweep",
        "schedule": crontab(minute="*/5"),
    },
}

# --- E-mail ---------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env.str("EMAIL_URL", default=""):
    # smtp://host:587 is STARTTLS; smtps://host:465 is TLS from the first byte.
    # django-environ gives smtps STARTTLS, which a port-465 server never
    # answers, so smtps (and smtp+ssl) mean implicit TLS here.
    _email = env.email_url("EMAIL_URL")
    _implicit_tls = env.url("EMAIL_URL").scheme in ("smtps", "smtp+ssl")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"] or (465 if _implicit_tls else 587)
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_SSL = _implicit_tls
    EMAIL_USE_TLS = not _implicit_tls
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Open Flattr <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging and errors (flattr_site/observability.py) --------------------
# Production logs are one JSON object a line, each with its request's id;
# LOG_FORMAT=text gives plain lines (the default with DEBUG on and in tests).

LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG or TESTING else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "flattr_site.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "flattr_site.observability.JsonLogFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "stripe": {"level": "WARNING"},
    },
}

# Errors to Sentry only when SENTRY_DSN is set; without it nothing is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from flattr_site.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# --- Metrics (ops/metrics.py, docs/operations.md) -------------------------
# /metrics answers a bearer token equal to METRICS_TOKEN, or a scraper at an
# address in METRICS_ALLOWED_NETWORKS (comma-separated CIDRs; none by default).

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
