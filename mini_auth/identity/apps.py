from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from identity import signals  # noqa: F401 - connects the receivers
        from identity.models import ReconcileRun
        from mini_common import metrics

        # mini_reconcile_last_*_timestamp_seconds on /metrics, from ReconcileRun's row.
        metrics.collect_at_scrape(metrics.ReconcileCollector(ReconcileRun))
