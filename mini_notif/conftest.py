import pytest

from mini_common.testing import *  # noqa: F403 - shared fixtures


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    """Sent e-mail lands in django.core.mail.outbox, never in files or on a server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
