"""HEALTHCHECK of a service image: ``GET /healthz`` on the container's own gunicorn.

The request names the service by its internal host name (the host of its own
``MINI_<SHORT>_URL``, e.g. ``mini-order:8000``), which Django's ALLOWED_HOSTS
always accepts, in production too; a bare ``127.0.0.1`` would be refused there.
Standard library only; exit 0 when the service answers 200.
"""

import os
import sys
import urllib.request
from urllib.parse import urlsplit

URL = "http://127.0.0.1:8000/healthz"


def host_header(env: dict[str, str]) -> str:
    short = env.get("MINI_SERVICE", "").removeprefix("mini_")
    own_url = env.get(f"MINI_{short.upper()}_URL", "") if short else ""
    return urlsplit(own_url).netloc or "127.0.0.1"


def main() -> int:
    request = urllib.request.Request(URL, headers={"Host": host_header(dict(os.environ))})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (OSError, ValueError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
