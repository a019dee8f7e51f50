import pytest
from django.core.mail.backends.locmem import EmailBackend


@pytest.fixture
def broken_mail(monkeypatch):
    """Every e-mail send raises, as an unreachable SMTP server would."""

    def refuse(self, messages):
        raise ConnectionRefusedError("smtp.example.com:25 refused the connection")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
