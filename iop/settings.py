"""One settings module, configured entirely from environment variables (django-environ).

The defaults are the *embedded* clinic (`make run`): SQLite and Celery's filesystem
transport. Production sets DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY and DJANGO_DEBUG=false.
Every variable is documented in `.env.example` and the README's configuration table.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false (see .env.example)."
        )
    SECRET_KEY = "insecure-embedded-development-key-never-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    "axes",
    "csp",
    "django_celery_beat",
    "iop.accounts",
    "iop.audit",
    "iop.reports",
    "iop.demo",
    "iop.bench",
    "patients",
    "scheduling",
    "testing",
    "treatment_plans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "iop.core.request_facts.RequestFactsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "iop.accounts.two_factor.SignInStepsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "iop.audit.middleware.AuditContextMiddleware",
    "iop.core.middleware.NoStoreForSignedInUsersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iop.urls"
WSGI_APPLICATION = "iop.wsgi.application"

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
                "iop.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a real Celery worker started by a test shares it.
    DATABASES["default"]["TEST"] = {
        "NAME": env("SQLITE_TEST_DATABASE", default=str(BASE_DIR / ".test-db.sqlite3"))
    }
    # IMMEDIATE: a transaction takes the write lock when it starts, so two requests that read
    # then append to the audit trail queue up instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication, sessions, throttling -----------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Messages can name a patient: keep them server-side, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session expires this many minutes after the last request.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The API's token endpoint answers a lockout with JSON; the sign-in page with the template.
AXES_LOCKOUT_CALLABLE = "iop.accounts.api_auth.lockout_response"
# Behind a reverse proxy (the production set-up), the client address is the last one the
# trusted proxies added to X-Forwarded-For. Throttling and the audit trail both use it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# --- Two-factor sign-in, API tokens, password reset (auth) ---
# Who must have a second factor (TOTP with backup codes): "admins_and_supervisors" (default)
# or "everyone". Anyone who has enrolled is asked for a code whatever this says.
TWO_FACTOR_REQUIRED_FOR = env("TWO_FACTOR_REQUIRED_FOR", default="admins_and_supervisors")
if TWO_FACTOR_REQUIRED_FOR not in ("admins_and_supervisors", "everyone"):
    raise ImproperlyConfigured("TWO_FACTOR_REQUIRED_FOR must be admins_and_supervisors or everyone.")
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="IOP Clinic")
OTP_STATIC_THROTTLE_FACTOR = 1
# API tokens (django-rest-knox): hashed in the database, expire after API_TOKEN_TTL_HOURS.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=20),
    "AUTO_REFRESH": False,
}
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)

# Break-the-glass access lasts this long.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=60)

# --- Security headers -------------------------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Forms, API ---------------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # API conformance (iop/core/api_filters.py, api_schema.py): empty filters and pages are 400s.
    "DEFAULT_FILTER_BACKENDS": ["iop.core.api_filters.NonEmptyFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "iop.core.api_filters.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "iop.core.api_schema.IopAutoSchema",
    "EXCEPTION_HANDLER": "iop.core.api_errors.json_exception_handler",
    # JSON only: nested bodies (answers, ratings) and null cannot be sent as form data.
    "DEFAULT_PARSER_CLASSES": ["iop.core.api_parsers.SafeJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IOP clinic API",
    "DESCRIPTION": "Patients, episodes of care and the rest of the IOP clinic, under the same "
    "permissions and audit trail as the browser.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConsentKindEnum": "patients.models.ConsentKind",
        "AsamEditionEnum": "patients.models.AsamEdition",
        "AsamEditionCodeEnum": ["3", "4"],  # the rule's EditionField (plain codes)
        "CollectionOutcomeEnum": "testing.models.CollectionOutcome",
        "ResultOutcomeEnum": "testing.models.ResultOutcome",
        "ConsequenceEnum": "testing.models.Consequence",
        "PlanVersionStatusEnum": "treatment_plans.models.VersionStatus",
        "ObjectiveStatusEnum": "treatment_plans.models.ObjectiveStatus",
        "AttendanceStatusEnum": "scheduling.models.AttendanceStatus",
        "SessionStatusEnum": "scheduling.models.OccurrenceStatus",  # occurrences and appointments
    },
    # Error statuses, required PATCH versions, non-empty filters: declared once (api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "iop.core.api_schema.declare_errors",
    ],
}

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDER = Path(env("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".broker")))
    for _folder in ("queue", "control"):
        (CELERY_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Periodic jobs are defined here, in one place. Each is idempotent.
_audit_verify_every = env.int("AUDIT_CHAIN_VERIFY_EVERY_SECONDS", default=0)
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "iop.audit.tasks.verify_audit_chain_task",
        "schedule": (
            timedelta(seconds=_audit_verify_every) if _audit_verify_every else crontab(hour=2, minute=30)
        ),
    },
    # Scheduling: occurrences of every group series, 8 weeks ahead. Idempotent (a unique natural
    # key), so hourly is harmless and a missed tick is caught up by the next.
    "generate-occurrences": {
        "task": "scheduling.tasks.generate_occurrences_task",
        "schedule": crontab(minute=7),
    },
    # Session reminders and staff agendas, each claimed by a unique row before it is sent.
    "send-reminders": {
        "task": "scheduling.tasks.send_reminders_task",
        "schedule": crontab(minute="*/15"),
    },
}
# Scheduling (ADR 0010): how long before a session patients are reminded, and the SMS backend
# (a dotted path; the default prints to the console like Django's console e-mail backend).
SCHEDULING_REMINDER_LEAD_HOURS = env.int("SCHEDULING_REMINDER_LEAD_HOURS", default=24)
SCHEDULING_SMS_BACKEND = env("SCHEDULING_SMS_BACKEND", default="scheduling.sms.ConsoleSMSBackend")

# --- Audit trail: signed checkpoints and database roles (ADR 0003) -----------------------

# The Ed25519 key that signs checkpoints of the audit chain: a file, never in the database.
# The embedded clinic (DEBUG) makes one under .audit/ the first time; production must set it.
_audit_dir = BASE_DIR / ".audit"
_audit_database = Path(str(DATABASES["default"]["NAME"])).stem
AUDIT_CHECKPOINT_KEY_FILE = env(
    "AUDIT_CHECKPOINT_KEY_FILE", default=str(_audit_dir / "checkpoint-key.pem") if DEBUG else ""
)
AUDIT_CHECKPOINT_GENERATE_KEY = DEBUG and "AUDIT_CHECKPOINT_KEY_FILE" not in env.ENVIRON
# Retired keys' public halves (PEM files), kept so that old checkpoints still verify.
AUDIT_CHECKPOINT_PUBLIC_KEYS = env.list("AUDIT_CHECKPOINT_PUBLIC_KEYS", default=[])
# Where checkpoints go outside the database: file:///path, syslog://host:514, syslog:///dev/log,
# https://collector/path (comma-separated). The embedded clinic appends to a file under .audit/.
AUDIT_CHECKPOINT_SINKS = env.list(
    "AUDIT_CHECKPOINT_SINKS",
    default=[f"file://{_audit_dir / f'checkpoints-{_audit_database}.jsonl'}"] if DEBUG else [],
)
# The copy of the outside checkpoints that verification reads. Default: the first file sink.
AUDIT_CHECKPOINT_LOG = env("AUDIT_CHECKPOINT_LOG", default="")
AUDIT_CHECKPOINT_HTTP_TOKEN = env("AUDIT_CHECKPOINT_HTTP_TOKEN", default="")
# How often beat makes a checkpoint (none while the chain head has not moved).
AUDIT_CHECKPOINT_EVERY_SECONDS = env.int("AUDIT_CHECKPOINT_EVERY_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["plan-due-notices"] = {  # treatment plans (ADR 0013): idempotent, so hourly
    "task": "treatment_plans.tasks.record_plan_due_notices_task",
    "schedule": timedelta(hours=1),
}
CELERY_BEAT_SCHEDULE["checkpoint-audit-trail"] = {
    "task": "iop.audit.tasks.checkpoint_audit_task",
    "schedule": timedelta(seconds=max(AUDIT_CHECKPOINT_EVERY_SECONDS, 1)),
}
# The role the application connects as under docker-compose: `manage.py setup_database` (the
# migrate service, as the owner) creates it with INSERT and SELECT only on the audit tables.
DATABASE_APP_USER = env("DATABASE_APP_USER", default="")
DATABASE_APP_PASSWORD = env("DATABASE_APP_PASSWORD", default="")

# --- Email, logging ---------------------------------------------------------------------

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="iop@localhost")

# Logs carry ids, never names or other PHI.
# No PHI in logs: query strings (?q=<name>) are stripped from every request log line
# (iop/core/log_filters.py); gunicorn's access log likewise (gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query_strings": {"()": "iop.core.log_filters.StripQueryStrings"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_query_strings"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["no_query_strings"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # runserver's request log (make run): "GET /patients/?q=... HTTP/1.1" 200
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["no_query_strings"],
        },
        # "Not Found: /path", "Bad Request: /path" and 5xx errors
        "django.request": {"filters": ["no_query_strings"]},
        "django.security": {"filters": ["no_query_strings"]},
    },
}

PHONENUMBER_DEFAULT_REGION = "US"

# --- Clinic options ---------------------------------------------------------------------

# DAST-10 is (c) Skinner/CAMH: offered only where the installation confirms its licence.
DAST10_LICENCE_CONFIRMED = env.bool("DAST10_LICENCE_CONFIRMED", default=False)

# --- Screening instruments ---


def _ciwa_ar_bands(text: str):
    """CIWA-Ar bands are protocol-dependent (CLINICAL.md): `CIWA_AR_BANDS` replaces the default
    (ASAM 2020: mild 0-9, moderate 10-18, severe 19-67). Checked here, so a wrong value stops
    the start instead of mis-banding withdrawal scores."""
    from patients.instruments.definitions import CIWA_AR, CIWA_AR_DEFAULT_BANDS
    from patients.instruments.engine import InvalidBands, parse_band_setting, validate_band_override

    if not text.strip():
        return CIWA_AR_DEFAULT_BANDS
    try:
        bands = parse_band_setting(text)
        validate_band_override(CIWA_AR, bands)
    except InvalidBands as problem:
        raise ImproperlyConfigured(
            f"CIWA_AR_BANDS={text!r} is not valid: {problem}. Write name:low-high bands, least severe "
            "first, covering every total from 0 to 67 with no gap or overlap and keeping a band "
            "named 'moderate', e.g. CIWA_AR_BANDS=mild:0-9,moderate:10-18,severe:19-67."
        ) from None
    return bands


CIWA_AR_BANDS = _ciwa_ar_bands(env("CIWA_AR_BANDS", default=""))

# --- Benchmark (`make bench`, iop/bench) ---
# Adds the bare login-required view /bench/bare/ and an X-Bench-Queries header on every response.
# Only for a benchmark database: never on in a real installation.
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", default=False)
if BENCH_BARE_VIEW:
    MIDDLEWARE.insert(0, "iop.bench.middleware.QueryCountHeaderMiddleware")

# --- Random drug and alcohol testing (testing/, ADR 0011) ---
# The draw task runs every few minutes and draws for each site whose `daily_draw_time` has
# passed on an operating day and that has no draw yet (idempotent: one draw per site and day).
TESTING_DRAW_CHECK_EVERY_SECONDS = env.int("TESTING_DRAW_CHECK_EVERY_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["testing-draw-if-due"] = {
    "task": "testing.tasks.draw_if_due_task",
    "schedule": timedelta(seconds=max(TESTING_DRAW_CHECK_EVERY_SECONDS, 1)),
}
CELERY_BEAT_SCHEDULE["testing-commit-next-month-keys"] = {
    "task": "testing.tasks.commit_next_month_keys_task",
    "schedule": crontab(hour=1, minute=10),
}
CELERY_BEAT_SCHEDULE["testing-reveal-ended-month-keys"] = {
    "task": "testing.tasks.reveal_ended_month_keys_task",
    "schedule": crontab(hour=1, minute=20),
}
# Specimen validity thresholds (CLINICAL.md section 5; names in testing/validity.py
# `Thresholds`), e.g. TESTING_VALIDITY_THRESHOLDS=adulterated_ph_below=4.5,dilute_creatinine_below=20
TESTING_VALIDITY_THRESHOLDS = env.dict("TESTING_VALIDITY_THRESHOLDS", default={})
