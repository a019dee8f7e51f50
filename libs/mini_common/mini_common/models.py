from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key use: claimed while processing, then the stored final response.

    The unique constraint on (username, method, path, key) is what settles
    concurrent duplicates: only one INSERT wins.
    """

    class State(models.TextChoices):
        PROCESSING = "PROCESSING"
        COMPLETED = "COMPLETED"
        # The last attempt failed in a way a retry may fix (5xx): it may be claimed again.
        RETRYABLE = "RETRYABLE"

    username = models.CharField(max_length=150, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices)
    locked_until = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_content_type = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["username", "method", "path", "key"], name="idempotency_scope_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] by {self.username or '-'}: {self.state}"
