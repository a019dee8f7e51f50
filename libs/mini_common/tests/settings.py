"""A minimal project to test mini_common on its own (SQLite, or DATABASE_URL)."""

from pathlib import Path

from mini_common.settings import service_settings

globals().update(
    service_settings(
        service="mini_test",
        short_name="test",
        base_dir=Path(__file__).resolve().parent,
        apps=[],
        title="mini_common tests",
    )
)
ROOT_URLCONF = "tests.urls"
MINI_COMMON = {
    **globals()["MINI_COMMON"],  # set by service_settings above
    "SERVICES": {"billing": "http://billing.test", "user": "http://user.test"},
    "RETRY_BACKOFF_BASE": 0.001,
    "RETRY_BACKOFF_CAP": 0.01,
    "BREAKER_FAIL_MAX": 3,
    "BREAKER_RESET_TIMEOUT": 60,
    "REDIS_URL": "",
}
