"""mini_user settings: the shared ones from mini_common plus this service's app."""

from pathlib import Path

from mini_common.settings import service_settings

globals().update(
    service_settings(
        service="mini_user",
        short_name="user",
        base_dir=Path(__file__).resolve().parent.parent,
        apps=["profiles"],
        title="mini_user: user profiles",
    )
)
