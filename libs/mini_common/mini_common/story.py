"""What each service tells `manage_all.py story`: its rows as JSON, through its own commands.

Each service reads only its own database, in ``<app>/story.py``, and prints one
JSON document through ``manage.py story_order <id>`` / ``story_user <name>``;
the tool puts the five together. Rows are given whole, every column under its
camelCase name, read from the model's own fields, so a column added later
shows up without a change to the story.
"""

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError
from django.db import models

DEFAULT_LIMIT = 100


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def record(instance: models.Model, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a row, camelCase, in JSON types (a foreign key as its id)."""
    return {
        _camel(field.attname): _json_value(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name not in leave_out
    }


class _StoryCommand(BaseCommand):
    def print_document(self, document: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(document, separators=(",", ":")))


class OrderStoryCommand(_StoryCommand):
    """``manage.py story_order <id>``: a subclass names its ``story(order_id=...)`` and help."""

    story: Callable[..., dict[str, Any]]

    def add_arguments(self, parser):
        parser.add_argument("order_id", type=int)

    def handle(self, *args, **options):
        self.print_document(type(self).story(order_id=options["order_id"]))


class UserStoryCommand(_StoryCommand):
    """``manage.py story_user <name> [--limit N]``: ``story(username=..., limit=...)``.

    ``listed`` names what ``--limit`` limits (newest first); a service with one
    row per user (a profile) sets it to "" and takes no ``--limit``.
    """

    story: Callable[..., dict[str, Any]]
    listed = ""

    def add_arguments(self, parser):
        parser.add_argument("username")
        if self.listed:
            parser.add_argument(
                "--limit", type=int, default=DEFAULT_LIMIT, help=f"{self.listed} listed"
            )

    def handle(self, *args, **options):
        story = type(self).story
        if not self.listed:
            self.print_document(story(username=options["username"]))
            return
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        self.print_document(story(username=options["username"], limit=options["limit"]))
