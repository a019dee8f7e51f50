"""Settings helpers: one function builds the settings every service shares.

A service's ``config/settings.py`` calls ``service_settings(...)`` and adds
its own apps and options. Everything comes from the environment (see
``.env.example``); development has safe defaults, production refuses them.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from mini_common.logs import logging_config
from mini_common.services import default_ports, project_name

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVICE_PORTS = default_ports()
DEV_SECRET_PREFIX = "dev-insecure-"

env = environ.Env()


def is_production() -> bool:
    return env.str("MINI_ENV", default="development") == "production"


# The names services call each other by (X-Service); nothing else is an internal caller.
KNOWN_SERVICE_NAMES = tuple(project_name(short) for short in SERVICE_PORTS)

# Development defaults that must never reach production, whatever their prefix.
DEV_INTERNAL_TOKEN = "dev-internal-token"
# The secrets every service needs; a service adds its own (mini_auth: JWT_SIGNING_KEY).
SERVICE_SECRETS = ("DJANGO_SECRET_KEY", "MINI_INTERNAL_TOKEN")
# Shortest production value per secret: Django's own deploy check wants 50
# characters of SECRET_KEY; HS256 keys and the shared token want 256 bits.
SECRET_MIN_LENGTH = {"DJANGO_SECRET_KEY": 50}
DEFAULT_SECRET_MIN_LENGTH = 32


def production_secrets_problems(names: Iterable[str]) -> list[str]:
    """What is wrong with the production secrets ``names`` (empty when all are fine)."""
    problems = []
    for name in names:
        value = env.str(name, default="")
        minimum = SECRET_MIN_LENGTH.get(name, DEFAULT_SECRET_MIN_LENGTH)
        if not value:
            problems.append(f"{name} is not set")
        elif value.startswith(DEV_SECRET_PREFIX) or value == DEV_INTERNAL_TOKEN:
            problems.append(f"{name} is a development default")
        elif len(value) < minimum:
            problems.append(f"{name} must be at least {minimum} characters")
    return problems


def require_production_secrets(names: Iterable[str]) -> None:
    """Refuse to start in production, naming every missing or weak secret at once."""
    if not is_production():
        return
    problems = production_secrets_problems(names)
    if problems:
        raise ImproperlyConfigured(
            "MINI_ENV=production refuses to start: "
            + "; ".join(problems)
            + ". Set real values in the environment (see .env.example), e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )


def secret(name: str, dev_default: str) -> str:
    """A secret from the environment; production refuses to start without a real one."""
    require_production_secrets([name])
    return env.str(name, default="") or dev_default


def service_urls() -> dict[str, str]:
    return {
        short: env.str(f"MINI_{short.upper()}_URL", default=f"http://127.0.0.1:{port}")
        for short, port in SERVICE_PORTS.items()
    }


def var_dir() -> Path:
    return Path(env.str("MINI_VAR_DIR", default=str(REPO_ROOT / "var")))


def _database(service: str) -> dict[str, Any]:
    default = f"sqlite:///{var_dir() / 'db' / f'{service}.sqlite3'}"
    database = env.db_url("DATABASE_URL", default=default)
    if database["ENGINE"].endswith("sqlite3"):
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Concurrent writers wait for the lock instead of failing at once.
        database.setdefault("OPTIONS", {})["timeout"] = 20
        database["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    else:
        # Persistent connections, checked (SELECT 1) at the start of each request
        # that uses one, so a connection the server closed is replaced first.
        database["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        database["CONN_HEALTH_CHECKS"] = True
        database["TEST"] = {"NAME": f"test_{database['NAME']}"}
    return database


def _caches(service: str) -> dict[str, Any]:
    redis_url = env.str("REDIS_URL", default="")
    if redis_url:
        return {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"mini:{service}",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
            }
        }
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _email(service: str) -> dict[str, Any]:
    email_url = env.str("EMAIL_URL", default="")
    if email_url:
        return env.email_url_config(email_url)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var_dir() / "mail" / service),
    }


def _static_root(short_name: str) -> str:
    root = var_dir() / "static" / short_name
    root.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
    return str(root)


def _allowed_hosts(production: bool, urls: dict[str, str]) -> list[str]:
    """DJANGO_ALLOWED_HOSTS; in production also the hosts the services call each other by.

    Development accepts any host. In production the public host name(s) the
    gateway passes on must be listed; the internal ones (MINI_<SERVICE>_URL)
    are added here, or no service could call another.
    """
    configured = env.list("DJANGO_ALLOWED_HOSTS", default=[] if production else ["*"])
    if not production:
        return configured
    internal = [urlsplit(url).hostname for url in urls.values()]
    return list(dict.fromkeys([*configured, *(host for host in internal if host)]))


def _https_settings(production: bool) -> dict[str, Any]:
    """HTTPS hardening for ``manage.py check --deploy``; each value from the environment.

    TLS is terminated in front of the gateway (a load balancer or a TLS nginx),
    which also redirects HTTP to HTTPS and should send HSTS itself. Django
    adds HSTS only to requests it sees as secure (X-Forwarded-Proto: https).
    """
    return {
        # Off by default: services are called over plain HTTP inside the
        # deployment (the gateway and each other), where a redirect would break every call.
        "SECURE_SSL_REDIRECT": env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False),
        "SECURE_HSTS_SECONDS": env.int(
            "DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if production else 0
        ),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env.bool(
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=production
        ),
        "SECURE_HSTS_PRELOAD": env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False),
        # Deliberately accepted findings of `check --deploy`:
        # - W008 (SECURE_SSL_REDIRECT off): HTTPS ends before the gateway, which
        #   redirects; the services themselves speak plain HTTP on the inside.
        # - W021 (no HSTS preload): preloading is the operator's decision (it
        #   is hard to undo); DJANGO_SECURE_HSTS_PRELOAD=true opts in.
        "SILENCED_SYSTEM_CHECKS": env.list(
            "DJANGO_SILENCED_SYSTEM_CHECKS", default=["security.W008", "security.W021"]
        ),
    }


# Argon2id first (mini_common.hashers: OWASP's parameters); the others only
# verify older hashes, which Django re-hashes with Argon2id at the next login.
PASSWORD_HASHERS = [
    "mini_common.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


def service_settings(
    *,
    service: str,
    short_name: str,
    base_dir: Path,
    apps: list[str],
    title: str,
    extra_secrets: Sequence[str] = (),
) -> dict[str, Any]:
    """The settings shared by every service; the caller ``globals().update()``s them.

    ``extra_secrets``: further environment variables that production must set
    (checked together with DJANGO_SECRET_KEY and MINI_INTERNAL_TOKEN, so that
    one failed start names every missing secret).
    """
    production = is_production()
    require_production_secrets([*SERVICE_SECRETS, *extra_secrets])
    debug = env.bool("DJANGO_DEBUG", default=False)
    if production and debug:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when MINI_ENV=production")
    bench_endpoints = env.bool("MINI_BENCH_ENDPOINTS", default=False)
    if production and bench_endpoints:
        raise ImproperlyConfigured(
            "MINI_BENCH_ENDPOINTS must be off when MINI_ENV=production "
            "(its endpoints are for the benchmark's own systems)"
        )
    urls = service_urls()
    redis_url = env.str("REDIS_URL", default="")
    return {
        "BASE_DIR": base_dir,
        "SECRET_KEY": secret("DJANGO_SECRET_KEY", f"{DEV_SECRET_PREFIX}{service}-secret-key"),
        "DEBUG": debug,
        "ALLOWED_HOSTS": _allowed_hosts(production, urls),
        "INSTALLED_APPS": [
            "mini_common.adminsite.MiniAdminConfig",  # django.contrib.admin, site named
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "rest_framework",
            "drf_spectacular",
            "drf_spectacular_sidecar",
            "mini_common",
            *apps,
        ],
        "MIDDLEWARE": [
            "mini_common.middleware.RequestContextMiddleware",
            "mini_common.metrics.MetricsMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "mini_common.middleware.InternalTokenMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                # mini_common's templates first: its admin/base_site.html replaces Django's.
                "DIRS": [Path(__file__).resolve().parent / "templates"],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DATABASES": {"default": _database(service)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "CACHES": _caches(service),
        **_email(service),
        "DEFAULT_FROM_EMAIL": env.str("DEFAULT_FROM_EMAIL", default="mini <noreply@mini.local>"),
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "APPEND_SLASH": False,
        "STATIC_URL": f"/static/{short_name}/",
        "STATIC_ROOT": _static_root(short_name),
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
        },
        # Several services share one host name behind the gateway: keep their cookies apart.
        "SESSION_COOKIE_NAME": f"{short_name}_sessionid",
        "SESSION_COOKIE_PATH": f"/admin/{short_name}/",
        "CSRF_COOKIE_NAME": f"{short_name}_csrftoken",
        "CSRF_COOKIE_PATH": f"/admin/{short_name}/",
        "CSRF_TRUSTED_ORIGINS": env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[]),
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SESSION_COOKIE_SECURE": production,
        "CSRF_COOKIE_SECURE": production,
        "X_FRAME_OPTIONS": "DENY",
        **_https_settings(production),
        "PASSWORD_HASHERS": PASSWORD_HASHERS,
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "mini_common.auth.GatewayHeaderAuthentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": ["mini_common.auth.IsEndUser"],
            "DEFAULT_PARSER_CLASSES": ["mini_common.parsers.ExactJSONParser"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PAGINATION_CLASS": "mini_common.pagination.StandardPagination",
            "EXCEPTION_HANDLER": "mini_common.problems.problem_exception_handler",
            "DEFAULT_SCHEMA_CLASS": "mini_common.schema.StrictBodyAutoSchema",
            "UNAUTHENTICATED_USER": None,
            "COERCE_DECIMAL_TO_STRING": False,
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": title,
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "COMPONENT_SPLIT_REQUEST": True,
        },
        "MINI_COMMON": {
            "SERVICE_NAME": service,
            "INTERNAL_TOKEN": secret("MINI_INTERNAL_TOKEN", DEV_INTERNAL_TOKEN),
            # The X-Service names trusted as internal callers (this service's own included).
            "KNOWN_SERVICES": (*KNOWN_SERVICE_NAMES, service),
            "SERVICES": urls,
            "REDIS_URL": redis_url,
            "CONNECT_TIMEOUT": env.float("MINI_CONNECT_TIMEOUT", default=1.0),
            "READ_TIMEOUT": env.float("MINI_READ_TIMEOUT", default=5.0),
            "RETRY_ATTEMPTS": env.int("MINI_RETRY_ATTEMPTS", default=3),
            "BREAKER_FAIL_MAX": env.int("MINI_BREAKER_FAIL_MAX", default=5),
            "BREAKER_RESET_TIMEOUT": env.float("MINI_BREAKER_RESET_TIMEOUT", default=10.0),
            "BREAKER_PROBE_TIMEOUT": env.float("MINI_BREAKER_PROBE_TIMEOUT", default=0.25),
            "REQUEST_BUDGET": env.float("MINI_REQUEST_BUDGET", default=20.0),
            "IDEMPOTENCY_TTL": env.int("MINI_IDEMPOTENCY_TTL", default=24 * 3600),
            # How long a retry with the same key gets 409 after its first request
            # died without a word (its lease): longer than any request lives.
            "IDEMPOTENCY_LEASE": env.float("MINI_IDEMPOTENCY_LEASE", default=60.0),
            # The benchmark's ping endpoints (mini_common.urls.bench_urlpatterns); off by default.
            "BENCH_ENDPOINTS": bench_endpoints,
        },
        "LOGGING": logging_config(service, env.str("LOG_LEVEL", default="INFO")),
    }
