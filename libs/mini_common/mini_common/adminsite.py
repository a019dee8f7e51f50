"""The admin of each service: named after it, and linked to the other four.

Every service has its own admin at ``/admin/<short>/``, all five behind the
gateway on one host. A person follows one order across them, so each admin
says which service it is ("mini_order administration", on the login page
too), its header links to the others, and model pages link to the same
user's or order's rows in the other admins with ``admin_link``. Those links
are paths on the gateway's host: they work through the gateway, which is how
the admins are used.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.html import format_html, format_html_join

from mini_common.conf import mini_setting
from mini_common.settings import SERVICE_PORTS


def admin_url(service: str, path: str, **filters) -> str:
    """``/admin/<service>/<path>`` with ``filters`` as its query, e.g. a filtered changelist."""
    query = f"?{urlencode(filters)}" if filters else ""
    return f"/admin/{service}/{path}{query}"


def admin_link(text: str, service: str, path: str, **filters) -> str:
    """An HTML link into another service's admin (see ``admin_url``)."""
    return format_html('<a href="{}">{}</a>', admin_url(service, path, **filters), text)


def admin_links(*links: str) -> str:
    """Links from ``admin_link`` on one line, for a read-only field of a change page."""
    return format_html_join(" · ", "{}", ((link,) for link in links))


class ReadOnlyAdmin:
    """For a ModelAdmin or an inline (listed first): its records are shown, never
    added, changed or deleted through a form. Records of money and of what was
    done with it change only through the services' own code."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MiniAdminSite(admin.AdminSite):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        service = mini_setting("SERVICE_NAME")
        self.site_header = f"{service} administration"
        self.site_title = f"{service} admin"
        self.index_title = f"{service}: what it stores"
        self.short_name = service.removeprefix("mini_")
        self.site_url = None  # no "View site": the gateway serves no page at "/"

    def each_context(self, request):
        context = super().each_context(request)
        context["mini_admins"] = [
            {
                "name": f"mini_{short}",
                "url": admin_url(short, ""),
                "current": short == self.short_name,
            }
            for short in SERVICE_PORTS
        ]
        return context


class MiniAdminConfig(AdminConfig):
    """django.contrib.admin with ``MiniAdminSite`` as ``admin.site``."""

    default_site = "mini_common.adminsite.MiniAdminSite"
