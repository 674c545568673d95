"""Kitobxon settings: everything from the environment, nothing required.

A fresh checkout runs with no variable set: SQLite (WAL) and the embedded job queue in
``KITOBXON_DATA_DIR`` (``./var``), a secret key generated there on first run.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.conf import locale as django_locale
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("KITOBXON_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Read the secret key from the data directory, creating it on first run."""
    if os.environ.get("KITOBXON_SECRET_KEY"):
        return os.environ["KITOBXON_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_flag("KITOBXON_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("KITOBXON_ALLOWED_HOSTS", "*").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KITOBXON_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "kitobxon.core",
    "kitobxon.accounts",
    "kitobxon.search",
    "kitobxon.ledger",
    "kitobxon.catalogue",
    "kitobxon.circulation",
    "kitobxon.digital",
    "kitobxon.protocols",
    "kitobxon.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "axes",
]

MIDDLEWARE = [
    "kitobxon.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kitobxon.core.i18n.LanguageMiddleware",
    # After the language (its refusal is translated), before CSRF reads any form.
    "kitobxon.core.uploads.UploadLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "kitobxon.core.views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

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
                "kitobxon.core.context_processors.site",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
_database_url = (
    os.environ.get("KITOBXON_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kitobxon.sqlite3'}"
)
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend with writers queued on a lock file (kitobxon/core/sqlite).
    DATABASES["default"]["ENGINE"] = "kitobxon.core.sqlite"
    # Connections are kept between requests as on PostgreSQL: opening one (registering
    # Django's SQL functions, the pragmas below, reading the schema) costs about a millisecond
    # of CPU, as much as a whole API request's own queries.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while the job worker writes; IMMEDIATE makes a write
        # transaction take the lock up front, so concurrent writers queue instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=15000; PRAGMA cache_size=-65536;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 15,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions and jobs when scaled out -----------------------------------------
REDIS_URL = os.environ.get("KITOBXON_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("KITOBXON_REDIS_PREFIX", "kitobxon"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "kitobxon",
        }
    }

# --- Jobs (Huey) -----------------------------------------------------------------------------
_huey_name = os.environ.get("KITOBXON_QUEUE_NAME", "kitobxon")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": _huey_name,
        "url": REDIS_URL,
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": _huey_name,
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": False,
    }
HUEY["consumer"] = {"workers": 1, "worker_type": "thread"}

# --- Search ----------------------------------------------------------------------------------
SEARCH_BACKEND = os.environ.get("KITOBXON_SEARCH_BACKEND", "tantivy")
SEARCH_INDEX_DIR = DATA_DIR / "search"
#: Searches whose facet counts each process remembers until the index changes (tantivy).
SEARCH_FACET_CACHE = int(os.environ.get("KITOBXON_SEARCH_FACET_CACHE", "512"))
MEDIA_ROOT = DATA_DIR / "files"

# --- Ledger ----------------------------------------------------------------------------------
# The signing key (Ed25519) and the pseudonym key are generated here on first run.
LEDGER_DIR = DATA_DIR / "ledger"
# The name this library's log goes by in its signed checkpoints; set it to your own domain.
LEDGER_ORIGIN = os.environ.get("KITOBXON_LEDGER_ORIGIN", "kitobxon.localhost/ledger")
# A checkpoint is signed every few minutes, or sooner once this many entries are waiting.
LEDGER_CHECKPOINT_MINUTES = int(os.environ.get("KITOBXON_LEDGER_CHECKPOINT_MINUTES", "5"))
LEDGER_CHECKPOINT_ENTRIES = int(os.environ.get("KITOBXON_LEDGER_CHECKPOINT_ENTRIES", "1000"))

# --- Catalogue -------------------------------------------------------------------------------
# How an imported record without a matching 001+003 or ISBN is recognised as one we hold:
# "title-author-year" (normalised) or "none".
CATALOGUE_MATCH_KEY = os.environ.get("KITOBXON_MATCH_KEY", "title-author-year")
ITEM_BARCODE_PREFIX = os.environ.get("KITOBXON_ITEM_PREFIX", "3")
IMPORT_DIR = DATA_DIR / "imports"
MEDIA_URL = "/media/"

# --- Circulation -----------------------------------------------------------------------------
# Amounts are in so'm (UZS). A reader who owes more than the threshold may not borrow or renew.
CIRCULATION_FINE_BLOCK_THRESHOLD = os.environ.get("KITOBXON_FINE_BLOCK_THRESHOLD", "20000")
# Charged for a lost copy whose price the catalogue does not know.
CIRCULATION_LOST_ITEM_FEE = os.environ.get("KITOBXON_LOST_ITEM_FEE", "100000")
# Open days a trapped hold waits on the hold shelf; days a waiting hold lives by default.
CIRCULATION_HOLD_PICKUP_DAYS = int(os.environ.get("KITOBXON_HOLD_PICKUP_DAYS", "7"))
CIRCULATION_HOLD_EXPIRY_DAYS = int(os.environ.get("KITOBXON_HOLD_EXPIRY_DAYS", "180"))

# --- Digital library -------------------------------------------------------------------------
# Comma-separated address ranges of the campus ("10.0.0.0/8, 192.0.2.0/24") for campus-only files.
DIGITAL_CAMPUS_NETWORKS = os.environ.get("KITOBXON_CAMPUS_NETWORKS", "")
# How many reverse proxies stand in front of the app (their X-Forwarded-For is then trusted).
DIGITAL_PROXY_COUNT = int(os.environ.get("KITOBXON_PROXY_COUNT", "0"))
# Largest upload accepted, in megabytes, per kind of file.
DIGITAL_MAX_MB = {
    "pdf": int(os.environ.get("KITOBXON_MAX_PDF_MB", "500")),
    "epub": int(os.environ.get("KITOBXON_MAX_EPUB_MB", "200")),
    "audio": int(os.environ.get("KITOBXON_MAX_AUDIO_MB", "1024")),
    "video": int(os.environ.get("KITOBXON_MAX_VIDEO_MB", "4096")),
    "captions": 2,
    "image": 50,
    "3d": int(os.environ.get("KITOBXON_MAX_3D_MB", "500")),
}
# The largest upload the app reads at all (a multipart body over it is refused with 413 before it
# is read): by default the largest kind above. Keep nginx's client_max_body_size at least this.
UPLOAD_MAX_MB = int(os.environ.get("KITOBXON_MAX_UPLOAD_MB", str(max(DIGITAL_MAX_MB.values()))))
# Signed file links expire after this many minutes (a reader reopens them from the record page).
DIGITAL_LINK_MINUTES = int(os.environ.get("KITOBXON_LINK_MINUTES", "240"))
# Hours a freed licensed copy is kept for the first reader on the waiting list.
DIGITAL_OFFER_HOURS = int(os.environ.get("KITOBXON_OFFER_HOURS", "48"))
# Watermarked downloads a reader may take per day.
DIGITAL_DAILY_DOWNLOADS = int(os.environ.get("KITOBXON_DAILY_DOWNLOADS", "10"))
# Behind nginx or Apache the server can send file bytes itself: "" (the app streams them),
# "x-accel-redirect" (nginx, internal location DIGITAL_SENDFILE_PREFIX) or "x-sendfile".
DIGITAL_SENDFILE = os.environ.get("KITOBXON_SENDFILE", "")
DIGITAL_SENDFILE_PREFIX = os.environ.get("KITOBXON_SENDFILE_PREFIX", "/protected-files/")
# Recognise the text of scanned PDFs with Debian's tesseract (apt-get install tesseract-ocr
# tesseract-ocr-uzb tesseract-ocr-uzb-cyrl tesseract-ocr-rus); languages in tesseract's names.
DIGITAL_OCR = os.environ.get("KITOBXON_OCR", "") == "1"
DIGITAL_OCR_LANGUAGES = os.environ.get("KITOBXON_OCR_LANGUAGES", "uzb+uzb_cyrl+rus+eng")
# Where the files live: the local DATA_DIR/files (default) or an S3-compatible store
# (KITOBXON_STORAGE=s3 with KITOBXON_S3_BUCKET, KITOBXON_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).

# --- Requests to other servers --------------------------------------------------------------
# Harvest sources and copy-cataloguing servers are fetched only from public internet addresses
# (kitobxon/core/outbound.py). An intranet repository is allowed by host name, IP address or
# CIDR range ("repo.campus.uz, 10.20.0.0/16"); KITOBXON_OUTBOUND_ALLOW_PRIVATE=1 allows every one.
OUTBOUND_ALLOW = [
    a.strip() for a in os.environ.get("KITOBXON_OUTBOUND_ALLOW", "").split(",") if a.strip()
]
OUTBOUND_ALLOW_PRIVATE = _env_flag("KITOBXON_OUTBOUND_ALLOW_PRIVATE")

# --- Accounts and security -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
CARD_NUMBER_PREFIX = os.environ.get("KITOBXON_CARD_PREFIX", "29")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kitobxon.accounts.backends.EmailOrCardBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "kitobxon.accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "kitobxon.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "kitobxon.accounts.passwords.CommonPasswordValidator"},
    {"NAME": "kitobxon.accounts.passwords.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "core:home"

AXES_FAILURE_LIMIT = int(os.environ.get("KITOBXON_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_flag("KITOBXON_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        # Alpine.js evaluates expressions with Function(); its CSP build is not on npm yet.
        "script-src": ["'self'", "'unsafe-eval'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- E-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "KITOBXON_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("KITOBXON_FROM_EMAIL", "Kitobxon <kutubxona@localhost>")
EMAIL_HOST = os.environ.get("KITOBXON_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KITOBXON_EMAIL_PORT", "25"))

LIBRARY_NAME = os.environ.get("KITOBXON_LIBRARY_NAME", "Kitobxon")
# The library's public address, for links in e-mails sent by jobs (no request to ask).
SITE_URL = os.environ.get("KITOBXON_SITE_URL", "").rstrip("/")

# --- Languages -------------------------------------------------------------------------------
# Django knows Uzbek Latin as "uz" but neither Uzbek Cyrillic nor Karakalpak.
django_locale.LANG_INFO.update(
    {
        "uz-cyrl": {
            "bidi": False,
            "code": "uz-cyrl",
            "name": "Uzbek (Cyrillic)",
            "name_local": "Ўзбекча",
        },
        "kaa": {
            "bidi": False,
            "code": "kaa",
            "name": "Karakalpak",
            "name_local": "Qaraqalpaqsha",
        },
    }
)
django_locale.LANG_INFO["uz"]["name_local"] = "Oʻzbekcha"
LANGUAGE_CODE = "uz"
# Addresses for programs rather than people: they answer in the Accept-Language they are sent.
ACCEPT_LANGUAGE_PATHS = ("/api/", "/ledger/checkpoint", "/ledger/key", "/ledger/cosignatures")
LANGUAGES = [
    ("uz", _("Uzbek (Latin)")),
    ("uz-cyrl", _("Uzbek (Cyrillic)")),
    ("kaa", _("Karakalpak")),
    ("ru", _("Russian")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "kitobxon_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("KITOBXON_TIME_ZONE", "Asia/Tashkent")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Front-end packages come from npm (package.json); only their dist folders are served.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/alpinejs", NODE_MODULES / "alpinejs" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/noble-ed25519", NODE_MODULES / "@noble" / "ed25519"),
    ("vendor/noble-hashes", NODE_MODULES / "@noble" / "hashes"),
    # The in-browser readers (kitobxon/digital/views/reader.py): pdf.js with its worker, fonts,
    # character maps and decoders; foliate-js (plain ES modules) and the one module it imports
    # by bare name; model-viewer's bundle, which carries its own three.js.
    *(
        (f"vendor/pdfjs/{part}", NODE_MODULES / "pdfjs-dist" / part)
        for part in ("build", "web", "cmaps", "standard_fonts", "wasm", "iccs")
    ),
    ("vendor/foliate-js", NODE_MODULES / "foliate-js"),
    (
        "vendor/construct-style-sheets-polyfill",
        NODE_MODULES / "construct-style-sheets-polyfill" / "dist",
    ),
    ("vendor/model-viewer", NODE_MODULES / "@google" / "model-viewer" / "dist"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if os.environ.get("KITOBXON_STORAGE", "") != "s3"
    else {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("KITOBXON_S3_BUCKET", "kitobxon"),
            "endpoint_url": os.environ.get("KITOBXON_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("KITOBXON_S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": True,
            "signature_version": "s3v4",
        },
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- API -------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
API_THROTTLE_ANONYMOUS = os.environ.get("KITOBXON_API_THROTTLE_ANONYMOUS", "120/m")
API_THROTTLE_USER = os.environ.get("KITOBXON_API_THROTTLE_USER", "600/m")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KITOBXON_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # The job worker installs its own handler; do not print its lines twice.
        "huey": {"propagate": False},
    },
}
