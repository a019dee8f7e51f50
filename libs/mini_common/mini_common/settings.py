"""Settings helpers: one function builds the settings every service shares.

A service's ``config/settings.py`` calls ``service_settings(...)`` and adds
its own apps and options. Everything comes from the environment (see
``.env.example``); development has safe defaults, production refuses them.
"""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from mini_common.logs import logging_config

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVICE_PORTS = {"auth": 8001, "user": 8002, "billing": 8003, "order": 8004, "notif": 8005}
DEV_SECRET_PREFIX = "dev-insecure-"

env = environ.Env()


def is_production() -> bool:
    return env.str("MINI_ENV", default="development") == "production"


def secret(name: str, dev_default: str) -> str:
    """A secret from the environment; production refuses to start without one."""
    value = env.str(name, default="")
    if value:
        return value
    if is_production():
        raise ImproperlyConfigured(f"{name} must be set when MINI_ENV=production")
    return dev_default


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


def service_settings(
    *, service: str, short_name: str, base_dir: Path, apps: list[str], title: str
) -> dict[str, Any]:
    """The settings shared by every service; the caller ``globals().update()``s them."""
    production = is_production()
    debug = env.bool("DJANGO_DEBUG", default=False)
    if production and debug:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off when MINI_ENV=production")
    urls = service_urls()
    redis_url = env.str("REDIS_URL", default="")
    return {
        "BASE_DIR": base_dir,
        "SECRET_KEY": secret("DJANGO_SECRET_KEY", f"{DEV_SECRET_PREFIX}{service}-secret-key"),
        "DEBUG": debug,
        "ALLOWED_HOSTS": env.list("DJANGO_ALLOWED_HOSTS", default=[] if production else ["*"]),
        "INSTALLED_APPS": [
            "django.contrib.admin",
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
                "DIRS": [],
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
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "mini_common.auth.GatewayHeaderAuthentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": ["mini_common.auth.IsEndUser"],
            "DEFAULT_PARSER_CLASSES": ["mini_common.parsers.ExactJSONParser"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PAGINATION_CLASS": "mini_common.pagination.StandardPagination",
            "EXCEPTION_HANDLER": "mini_common.problems.problem_exception_handler",
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
            "INTERNAL_TOKEN": secret("MINI_INTERNAL_TOKEN", "dev-internal-token"),
            "SERVICES": urls,
            "REDIS_URL": redis_url,
            "CONNECT_TIMEOUT": env.float("MINI_CONNECT_TIMEOUT", default=1.0),
            "READ_TIMEOUT": env.float("MINI_READ_TIMEOUT", default=5.0),
            "RETRY_ATTEMPTS": env.int("MINI_RETRY_ATTEMPTS", default=3),
            "BREAKER_FAIL_MAX": env.int("MINI_BREAKER_FAIL_MAX", default=5),
            "BREAKER_RESET_TIMEOUT": env.float("MINI_BREAKER_RESET_TIMEOUT", default=10.0),
            "REQUEST_BUDGET": env.float("MINI_REQUEST_BUDGET", default=20.0),
            "IDEMPOTENCY_TTL": env.int("MINI_IDEMPOTENCY_TTL", default=24 * 3600),
        },
        "LOGGING": logging_config(service, env.str("LOG_LEVEL", default="INFO")),
    }
