"""mini_billing settings: the shared ones from mini_common plus this service's app."""

from pathlib import Path

from mini_common.settings import service_settings

globals().update(
    service_settings(
        service="mini_billing",
        short_name="billing",
        base_dir=Path(__file__).resolve().parent.parent,
        apps=["billing"],
        title="mini_billing: accounts and money operations",
    )
)
