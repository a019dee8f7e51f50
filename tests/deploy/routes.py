"""Three views of the public routes, reduced to one question: where does a request go?

- API.md's table "The gateway's routes" and its endpoints marked internal
  (the contract, docs/api.md);
- gateway_nginx/nginx.conf.template, by nginx's location matching;
- the rendered Ingresses, by ingress-nginx's location matching.

Each answers a (method, path) with an Outcome: the service and the kind of
authentication in front of it, or NOT_FOUND.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy.support import SERVICES

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NONE, JWT = "none", "jwt"
AUTH_KINDS = {"none": NONE, "jwt": JWT, "django session": NONE}  # a session is Django's business


@dataclass(frozen=True)
class Outcome:
    service: str  # short name; "" for NOT_FOUND
    auth: str = NONE

    def __str__(self) -> str:
        return f"{self.service} ({self.auth})" if self.service else "404"


NOT_FOUND = Outcome("")


# --- API.md -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRoute:
    prefix: str
    service: str
    auth: str

    def matches(self, path: str) -> bool:
        """Path-segment prefix: /api/v1/order matches /api/v1/order/7, not /api/v1/orders."""
        if self.prefix.endswith("/"):
            return path.startswith(self.prefix)
        return path == self.prefix or path.startswith(self.prefix + "/")


@dataclass
class RouteTable:
    routes: list[TableRoute]
    # (method, path) of the endpoints only services may call (API.md: "internal",
    # "nginx only"), and the paths on which some other method is public.
    internal: set[tuple[str, str]] = field(default_factory=set)
    shared_paths: set[str] = field(default_factory=set)

    def expected(self, method: str, path: str) -> Outcome:
        if (method, path) in self.internal:
            return NOT_FOUND
        matching = [route for route in self.routes if route.matches(path)]
        if not matching:
            return NOT_FOUND
        best = max(matching, key=lambda route: len(route.prefix))
        return Outcome(best.service, best.auth)

    def internal_paths(self) -> set[str]:
        return {path for _, path in self.internal}


def _table_rows(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if all(set(cell) <= {"-", ":", " "} for cell in cells):
            continue  # the separator line
        rows.append(cells)
    return rows


def _section(text: str, title: str) -> list[str]:
    """The lines of a '## title' section."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"## {title}")
    section = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        section.append(line)
    return section


def _prefixes(cell: str) -> list[str]:
    """'/api/v1/auth/register, /login, /refresh' -> the three full paths."""
    parts = [part.strip().strip("`") for part in cell.split(",")]
    first = parts[0]
    parent = first.rstrip("/").rsplit("/", 1)[0]
    return [first, *(part if part.count("/") > 1 else parent + part for part in parts[1:])]


def parse_api(text: str) -> RouteTable:
    routes = []
    shorts: list[str] = []  # what `<service>` stands for, named once in the table
    for prefix_cell, service_cell, auth_cell, *_ in _table_rows(
        _section(text, "The gateway's routes")
    )[1:]:
        if not prefix_cell.startswith("/"):
            continue  # "anything else, and every internal endpoint": the default
        auth = AUTH_KINDS[auth_cell.lower()]
        if "<service>" in prefix_cell:
            shorts = [s for s in SERVICES if re.search(rf"\b{s}\b", service_cell)] or shorts
            assert shorts, f"no services named for <service> in {service_cell!r}"
            for short in shorts:
                for prefix in _prefixes(prefix_cell):
                    routes.append(TableRoute(prefix.replace("<service>", short), short, auth))
        else:
            short = service_cell.strip("`").removeprefix("mini_")
            assert short in SERVICES, f"unknown service {service_cell!r}"
            routes.extend(TableRoute(prefix, short, auth) for prefix in _prefixes(prefix_cell))

    endpoints: dict[str, dict[str, bool]] = {}  # path -> method -> internal only
    for cells in _table_rows(text.splitlines()):
        if len(cells) < 3 or cells[0] not in HTTP_METHODS:
            continue
        method, path, who = cells[0], cells[1].strip("`"), cells[2].lower()
        internal = who == "internal" or who.startswith("nginx only")
        endpoints.setdefault(path, {})[method] = internal
    internal_set = {
        (method, path)
        for path, methods in endpoints.items()
        for method, only in methods.items()
        if only
    }
    shared = {path for path, methods in endpoints.items() if len(set(methods.values())) > 1}
    return RouteTable(routes, internal_set, shared)


def parse_api_file(path: Path) -> RouteTable:
    return parse_api(path.read_text(encoding="utf-8"))


def probes(table: RouteTable) -> list[tuple[str, str]]:
    """(method, path) pairs that exercise every route, its edges and the internal endpoints."""
    # Both methods on the prefixes themselves (some are GET and POST endpoints);
    # GET below them (the gateway may refuse more methods there than the table says).
    both: set[str] = {"/", "/unknown", "/api/v1/auth/", "/admin/", "/admin/other/", "/docs/"}
    get_only: set[str] = set()
    for route in table.routes:
        prefix = route.prefix
        if prefix.endswith("/"):
            both |= {prefix, prefix.rstrip("/")}
            get_only.add(prefix + "x")
        else:
            both.add(prefix)
            if not prefix.startswith("/api/v1/auth/"):  # endpoints, not prefixes
                both.add(prefix + "s")
                get_only.add(prefix + "/1")
    internal_paths = table.internal_paths()
    found = {(method, path) for path in both - internal_paths for method in ("GET", "POST")}
    found |= {("GET", path) for path in get_only - internal_paths}
    return sorted(found | table.internal)


# --- nginx --------------------------------------------------------------------------------


@dataclass
class Location:
    modifier: str  # "=", "" (prefix), "^~", "~", "~*"
    pattern: str
    body: str = ""
    service: str = ""  # for Ingress locations
    auth: str = NONE

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE if self.modifier == "~*" else 0)


def _strip_comments(text: str) -> str:
    out, quote = [], ""
    for line in text.splitlines():
        kept = []
        for char in line:
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "#":
                break
            kept.append(char)
        out.append("".join(kept))
    return "\n".join(out)


def _block(text: str, open_at: int) -> int:
    """Index just after the brace closing the block that opens at text[open_at] == '{'."""
    depth, quote = 0, ""
    for index in range(open_at, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError("unbalanced braces")


_LOCATION = re.compile(r"\blocation\s+(?:(=|\^~|~\*|~)\s+)?(\S+)\s*\{")


def nginx_locations(template: str) -> list[Location]:
    text = _strip_comments(template)
    found = []
    for match in _LOCATION.finditer(text):
        end = _block(text, match.end() - 1)
        found.append(Location(match.group(1) or "", match.group(2), text[match.end() : end - 1]))
    return found


def match_location(locations: list[Location], path: str) -> tuple[Location, re.Match[str] | None]:
    """nginx's choice: exact, else the longest prefix unless a regex (in order) matches."""
    for location in locations:
        if location.modifier == "=" and location.pattern == path:
            return location, None
    prefixes = [
        location
        for location in locations
        if location.modifier in ("", "^~") and path.startswith(location.pattern)
    ]
    best = max(prefixes, key=lambda location: len(location.pattern), default=None)
    if best is None or best.modifier != "^~":
        for location in locations:
            if location.modifier in ("~", "~*"):
                found = location.regex().search(path)
                if found:
                    return location, found
    if best is None:
        raise LookupError(f"no location for {path}")
    return best, None


_IF_METHOD_404 = re.compile(
    r"if\s*\(\s*\$request_method\s*=\s*(\w+)\s*\)\s*\{\s*return\s+404\s*;\s*\}"
)


def nginx_outcome(locations: list[Location], method: str, path: str) -> Outcome:
    location, found = match_location(locations, path)
    body = location.body
    if re.search(r"(^|\s)internal\s*;", body):
        return NOT_FOUND  # not reachable from outside
    if method in _IF_METHOD_404.findall(body):
        return NOT_FOUND
    top_level = _IF_METHOD_404.sub("", body)
    if re.search(r"return\s+404\s*;", top_level):
        return NOT_FOUND
    upstream = re.search(r"proxy_pass\s+http://mini_(\$1|\w+)", top_level)
    if upstream is None:
        raise AssertionError(f"location {location.pattern} neither proxies nor returns 404")
    service = upstream.group(1)
    if service == "$1":
        assert found is not None, f"{location.pattern}: $1 without a regex capture"
        service = found.group(1)
    auth = JWT if re.search(r"\bauth_request\s+/", top_level) else NONE
    return Outcome(service, auth)


# --- ingress-nginx ------------------------------------------------------------------------

AUTH_URL = "nginx.ingress.kubernetes.io/auth-url"


def ingress_locations(ingresses: list[dict[str, Any]], host: str) -> list[Location]:
    """ingress-nginx's locations for one host.

    Exact /p is `location = /p`; Prefix /p is `location /p/` plus
    `location = /p` unless an Exact location of that path exists
    (ingress-nginx: updateServerLocations). The same path in two Ingresses
    is refused by its admission webhook, so here it is an error.
    """
    declared = []
    for ingress in ingresses:
        annotations = ingress["metadata"].get("annotations", {})
        auth = JWT if AUTH_URL in annotations else NONE
        for rule in ingress["spec"]["rules"]:
            if rule.get("host") != host:
                continue
            for entry in rule["http"]["paths"]:
                service = entry["backend"]["service"]["name"]
                declared.append((entry["pathType"], entry["path"], service, auth))
    paths = [path for _, path, _, _ in declared]
    duplicates = {path for path in paths if paths.count(path) > 1}
    assert not duplicates, f"paths declared twice (the admission webhook refuses): {duplicates}"
    exact_paths = {path for kind, path, _, _ in declared if kind == "Exact"}
    locations = []
    for kind, path, service, auth in declared:
        assert kind in ("Exact", "Prefix"), f"{path}: pathType {kind} is not portable"
        if kind == "Exact":
            locations.append(Location("=", path, service=service, auth=auth))
            continue
        normalized = path if path.endswith("/") else path + "/"
        locations.append(Location("", normalized, service=service, auth=auth))
        if path not in exact_paths:
            locations.append(Location("=", path, service=service, auth=auth))
    return locations


def ingress_outcome(locations: list[Location], path: str, not_found_services: set[str]) -> Outcome:
    try:
        location, _ = match_location(locations, path)
    except LookupError:
        return NOT_FOUND  # the controller's default backend
    if location.service in not_found_services:
        return NOT_FOUND
    return Outcome(location.service.removeprefix("mini-"), location.auth)
