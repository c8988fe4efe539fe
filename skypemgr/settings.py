"""Settings for SkypeMgr, read from the environment (and `.env` when present).

Every setting a deployment may change is documented in `.env.example`. Defaults are safe for
production (DEBUG off, secure cookies, HSTS); `make run` and the tests set what they need.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105 (DEBUG only)

SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# --- Applications -------------------------------------------------------------------------------

INSTALLED_APPS = [
    # Django admin, entered through allauth's sign-in and two-factor (accounts.admin_site).
    "skypemgr.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "django_countries",
    "djmoney",
    # The call-record API (/api/v1/); listed so that its docs page uses the Swagger UI files it
    # ships (served from our static files) instead of a CDN.
    "ninja",
    # Ours, from the ground floor up: each imports only those listed before it.
    "skypemgr.apps.SkypeMgrConfig",
    "accounts",
    "outbox",
    "organizations",
    "members",
    "credit",
    "subscriptions",
    "usage",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "skypemgr.middleware.PrivacyHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "organizations.middleware.AdminAllTenantsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not DEBUG:
    # In development runserver serves static files itself, straight from the finders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "skypemgr.urls"
WSGI_APPLICATION = "skypemgr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.organizations",
                "members.context_processors.invitations",
                "skypemgr.context_processors.site",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/skypemgr"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "skypemgr",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    },
}

# --- Accounts (django-allauth) ------------------------------------------------------------------

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
LOGIN_REDIRECT_URL = "organizations:choose"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Their name, else email or mobile number: most usernames are generated, nobody knows theirs.
ACCOUNT_USER_DISPLAY = "accounts.adapter.user_display"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"email", "username", "phone"}
# Email and phone are both optional here because our signup form asks for exactly one of them.
ACCOUNT_SIGNUP_FIELDS = ["email", "phone", "username", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[SkypeMgr] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated here so that they are visible and tuned in one place.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    # Ours (accounts.adapter): failures per account, whether typed as email, username or phone.
    "login_failed_account": "5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "verify_phone": "1/30s/key,3/m/ip",
}
# Behind a reverse proxy every request comes from the proxy's address: the per-address limits
# above, and the addresses in the audit log, then read the client's address from what the
# proxies forward. Set exactly one of these, only when the app cannot be reached around them.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default="") or None
# Email verification is optional at signup so that phone-only accounts exist; creating an
# organization checks for a verified address instead (see organizations.services).
SILENCED_SYSTEM_CHECKS = ["account.W001"]
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SkypeMgr"

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default=None)
PHONENUMBER_DEFAULT_FORMAT = "E164"

# The currencies an organization may choose at signup; its wallet never mixes them.
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY")
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]

# --- Static files -------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email and SMS ------------------------------------------------------------------------------


def _mailer_from_url(url: str) -> dict:
    """Turn an EMAIL_URL into one entry of Django's MAILERS setting."""
    config = environ.Env.email_url_config(url)
    options = {
        "host": config.get("EMAIL_HOST") or None,
        "port": config.get("EMAIL_PORT") or None,
        "username": config.get("EMAIL_HOST_USER") or None,
        "password": config.get("EMAIL_HOST_PASSWORD") or None,
        "use_tls": config.get("EMAIL_USE_TLS") or None,
        "use_ssl": config.get("EMAIL_USE_SSL") or None,
        "timeout": env.int("EMAIL_TIMEOUT", default=15),
    }
    if config.get("EMAIL_FILE_PATH"):
        options = {"file_path": config["EMAIL_FILE_PATH"]}
    elif not config["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options = {}
    backend = config["EMAIL_BACKEND"]
    if backend == "django.core.mail.backends.console.EmailBackend":
        # Readable in a terminal: no MIME encoding, attachments by name (skypemgr.mail).
        backend = "skypemgr.mail.ReadableConsoleBackend"
    return {
        "BACKEND": backend,
        "OPTIONS": {key: value for key, value in options.items() if value is not None},
    }


MAILERS = {
    "default": _mailer_from_url(
        env("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
    ),
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SkypeMgr <no-reply@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

SMS_BACKEND = env(
    "SMS_BACKEND",
    default="console" if DEBUG else "twilio",
)
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / ".data" / "sms"))
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# Where the Twilio client sends its requests; tests point it at a local fake.
TWILIO_API_BASE = env("TWILIO_API_BASE", default="")
# Calling from the browser (the Phone page): an API key (SID and secret) signs the short-lived
# access tokens of Twilio's Voice JavaScript SDK; the TwiML App's Voice URL is our outgoing-call
# webhook (/twilio/outgoing/). Without the key or the app, the page shows prices only.
TWILIO_API_KEY_SID = env("TWILIO_API_KEY_SID", default="")
TWILIO_API_KEY_SECRET = env("TWILIO_API_KEY_SECRET", default="")
TWILIO_TWIML_APP_SID = env("TWILIO_TWIML_APP_SID", default="")
# The caller ID of members' calls when they have not chosen one of their numbers (E.164).
TWILIO_CALLER_ID = env("TWILIO_CALLER_ID", default="")

# Invitations: how many SMS may go to one number, and from one organization, per hour.
INVITATION_SMS_PER_NUMBER_PER_HOUR = env.int("INVITATION_SMS_PER_NUMBER_PER_HOUR", default=5)
INVITATION_SMS_PER_ORGANIZATION_PER_HOUR = env.int(
    "INVITATION_SMS_PER_ORGANIZATION_PER_HOUR", default=500
)

# Every email and SMS the app sends is listed at /dev/outbox/ when this is on.
DEV_OUTBOX = env.bool("DEV_OUTBOX", default=DEBUG)

# --- Payments (Stripe) --------------------------------------------------------------------------

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")

# One purchase, in the organization's currency units (JPY: a hundred times these): the least,
# and the most before and after platform staff verified the company.
PURCHASE_LIMITS = {
    "minimum": env.int("PURCHASE_MINIMUM", default=5),
    "unverified": env.int("PURCHASE_LIMIT_UNVERIFIED", default=500),
    "verified": env.int("PURCHASE_LIMIT_VERIFIED", default=10_000),
}

# Where customers send bank transfers (shown with each bank-transfer purchase's reference).
# Who hears of payments our rules could not credit (a wrong amount, paid after a cancel...):
# these addresses, or when empty, every active staff user with an email address.
STAFF_ALERT_EMAILS = env.list("STAFF_ALERT_EMAILS", default=[])
BANK_TRANSFER_DETAILS = {
    "holder": env("BANK_TRANSFER_HOLDER", default="SkypeMgr demo (not a real account)"),
    "iban": env("BANK_TRANSFER_IBAN", default="FR76 0000 0000 0000 0000 0000 000"),
    "bic": env("BANK_TRANSFER_BIC", default="DEMOFRPPXXX"),
}

# --- Background jobs (Celery) -------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="skypemgr")
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "outbox-redispatch-stuck": {
        "task": "outbox.redispatch_stuck",
        "schedule": 300.0,
    },
    # Invitations whose sending task never reached a worker (the broker was down).
    "members-send-stuck-invitations": {
        "task": "members.send_stuck_invitations",
        "schedule": 300.0,
    },
    "members-expire-invitations": {
        "task": "members.expire_invitations",
        "schedule": crontab(hour=3, minute=15),
    },
    # Monthly allocations are due at midnight on the 1st in each organization's time zone:
    # the sweep runs every 15 minutes and each rule runs once per month (a unique row).
    "credit-run-monthly-rules": {
        "task": "credit.run_monthly_rules",
        "schedule": crontab(minute="*/15"),
    },
    # Member and company auto-recharges, for balances that dropped without a posting we saw.
    "credit-check-auto-recharges": {
        "task": "credit.check_auto_recharges",
        "schedule": crontab(minute="*/10"),
    },
    # Automatic recharges stalled in flight (a lost task or webhook), settled from Stripe.
    "credit-reconcile-auto-recharges": {
        "task": "credit.reconcile_auto_recharges",
        "schedule": crontab(minute="7-59/15"),
    },
    # Features renew at midnight in each organization's time zone: the sweep runs every 15
    # minutes and renews each period once (a row lock and a unique row per period).
    "subscriptions-renew-due": {
        "task": "subscriptions.renew_due",
        "schedule": crontab(minute="*/15"),
    },
    # Owners and admins hear a few days ahead of a day whose renewals pass their threshold;
    # each (organization, day) is emailed once, so a second run sends nothing.
    "subscriptions-large-run-notices": {
        "task": "subscriptions.large_run_notices_due",
        "schedule": crontab(hour=6, minute=20),
    },
    # Online numbers whose purchase task was lost or kept failing (stuck over 10 minutes).
    "subscriptions-provision-stuck-numbers": {
        "task": "subscriptions.provision_stuck_numbers",
        "schedule": crontab(minute="*/5"),
    },
    # Numbers suspended or ended for longer than their organization's hold go back to Twilio.
    "subscriptions-release-held-numbers": {
        "task": "subscriptions.release_held_numbers",
        "schedule": crontab(minute=20),
    },
    # The monthly report by email: due from 6 a.m. on the 1st in each organization's time
    # zone, so the sweep runs hourly over the days that hold some zone's 1st (UTC); each
    # (schedule, month) is sent once (a unique row), whatever runs twice.
    "dashboard-report-schedules": {
        "task": "dashboard.report_schedule_send_due",
        "schedule": crontab(minute=5, day_of_month="1,2,3"),
    },
    # Exports whose task was lost (the broker was down, the worker died), sent again.
    "dashboard-export-jobs-stuck": {
        "task": "dashboard.export_jobs_stuck",
        "schedule": crontab(minute="*/5"),
    },
    # Export files are kept a week.
    "dashboard-export-jobs-expire": {
        "task": "dashboard.export_jobs_expire",
        "schedule": crontab(hour=4, minute=40),
    },
}

# --- Call-record API (/api/v1/) ----------------------------------------------------------------

# Requests one API key may make per minute; more are answered 429 with Retry-After.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=60)

# --- Security -----------------------------------------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Browser features the product does not use are denied to every page. The microphone stays
# allowed for our own pages only: the coming browser phone needs it.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": ["self"],
    "midi": [],
    "payment": [],
    "serial": [],
    "usb": [],
}
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Bootstrap components and allauth's honeypot set style attributes.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# The Phone page's policy: the default one, plus what Twilio's Voice JavaScript SDK reaches from
# the browser (its README's "Content Security Policy" section): the signalling WebSocket of the
# default edge (roaming), the call-quality events gateway, its ringing and key-tone sounds, and
# the call's own audio (a MediaStream). The call's media (WebRTC) is not governed by the CSP.
PHONE_CSP = {
    **SECURE_CSP,
    "connect-src": [
        CSP.SELF,
        "wss://voice-js.roaming.twilio.com",
        "https://eventgw.twilio.com",
        "https://sdk.twilio.com",
    ],
    "media-src": [CSP.SELF, "mediastream:", "https://sdk.twilio.com"],
}

# --- Logging ------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own defaults give the "django" logger a console handler of its own in DEBUG;
        # with the root handler above every warning (and its traceback) printed twice.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}
