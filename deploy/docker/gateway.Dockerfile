# syntax=docker/dockerfile:1
# The nginx gateway, built from the repository root:
#
#   docker build -f deploy/docker/gateway.Dockerfile -t mini-gateway .
#
# Debian's nginx (it has the auth_request module) and the repository's own
# gateway_nginx/nginx.conf.template, rendered at start by the same code as
# `manage_all.py up` (tools/manage_all/gateway.py, standard library only)
# with the container's values: see deploy/docker/gateway_entrypoint.py.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MINI_GATEWAY_PREFIX=/var/lib/mini-gateway

# The template writes its logs to access.log / error.log in nginx's prefix
# directory: links to the container's stdout / stderr.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mini \
    && useradd --system --uid 10001 --gid mini --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin mini \
    && mkdir -p "${MINI_GATEWAY_PREFIX}" \
    && ln -sf /dev/stdout "${MINI_GATEWAY_PREFIX}/access.log" \
    && ln -sf /dev/stderr "${MINI_GATEWAY_PREFIX}/error.log" \
    && chown -R mini:mini "${MINI_GATEWAY_PREFIX}"

# The repository's layout under /opt/mini, so that manage_all's paths hold.
COPY tools/__init__.py /opt/mini/tools/__init__.py
COPY tools/manage_all /opt/mini/tools/manage_all
# The one list of services, which tools/manage_all/layout.py loads by its path.
COPY libs/mini_common/mini_common/services.py /opt/mini/libs/mini_common/mini_common/services.py
COPY gateway_nginx/nginx.conf.template /opt/mini/gateway_nginx/nginx.conf.template
COPY deploy/docker/gateway_entrypoint.py /opt/mini/deploy/docker/gateway_entrypoint.py

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8000/healthz', timeout=3)"]

CMD ["python", "/opt/mini/deploy/docker/gateway_entrypoint.py"]
