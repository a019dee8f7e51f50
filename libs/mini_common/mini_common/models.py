from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key use: claimed while processing, then the stored final response.

    The unique constraint on (service, username, method, path, key) is what
    settles concurrent duplicates: only one INSERT wins. ``service`` is the
    calling service (``X-Service``), "" for a client through the gateway (which
    strips that header): a key a service derives (``order-17-payment``) lives in
    a scope no client can write to.
    """

    class State(models.TextChoices):
        PROCESSING = "PROCESSING"
        COMPLETED = "COMPLETED"
        # The last attempt failed in a way a retry may fix (5xx): it may be claimed again.
        RETRYABLE = "RETRYABLE"

    service = models.CharField(max_length=40, blank=True, default="")
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
                fields=["service", "username", "method", "path", "key"],
                name="idempotency_caller_scope_unique",
            )
        ]

    def __str__(self) -> str:
        caller = "/".join(filter(None, [self.service, self.username])) or "-"
        return f"{self.method} {self.path} [{self.key}] by {caller}: {self.state}"


class ReconcileRunBase(models.Model):
    """When ``manage.py reconcile`` last started, succeeded and failed: one row.

    The command runs in a process of its own (a CronJob's pod, ``manage_all.py
    reconcile``) that nobody scrapes; the service's /metrics reads this row
    (``mini_common.metrics.reconcile_recorded`` writes it). Each service that
    reconciles has its own concrete ``ReconcileRun``, in its own database.
    """

    started_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"reconcile started {self.started_at}"
