# syntax=docker/dockerfile:1
#
# One image for every role; the command picks it (the entrypoint is the binary):
#   docker build -t shortener .
#   docker run --rm -p 8080:8080 shortener                      # serve (default): embedded SQLite
#   docker run --rm shortener serve --database-url postgres://... --redis-url redis://...
#   docker run --rm shortener worker --database-url postgres://... --redis-url redis://...
#   docker run --rm shortener migrate --database-url postgres://...
# One image rather than one per role (as the seed had for api/worker/frontend): serve and worker
# are the same binary, and the web app is a set of static files that serve answers from memory,
# so separate images would hold the same bytes three times and could drift apart in version.
#
# Build stage: Debian 12 running the repository's own scripts (scripts/build.sh installs the
# Debian packages, fetches the npm data files, builds web/dist and build/shortener). The base is
# node:20-bookworm, which is debian:12 plus the official Node.js 20: Debian 12's own nodejs is 18,
# too old for the web app's toolchain (scripts/install-deps.sh refuses it).
FROM node:20-bookworm AS build
ARG JOBS=2
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src

# Layers ordered from least to most often changed: Debian packages, pinned data, then the source.
COPY scripts/lib.sh scripts/install-deps.sh scripts/
RUN ./scripts/install-deps.sh
COPY scripts/fetch-data.sh scripts/
COPY third_party/npm/package.json third_party/npm/package-lock.json third_party/npm/
RUN ./scripts/fetch-data.sh >/dev/null

COPY . .
RUN JOBS="$JOBS" ./scripts/build.sh \
 && ./deploy/docker/stage-install.sh /out

# Runtime stage: Debian 12 slim with only the shared libraries the binary loads (the list was
# computed from the binary itself in the build stage), curl for the HEALTHCHECK (slim has no HTTP
# client; curl is ~1 MB on top of what libpq already pulls in) and CA certificates for TLS to
# managed PostgreSQL/Redis.
FROM debian:12-slim AS runtime
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 shortener \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/shortener \
      --shell /usr/sbin/nologin shortener \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/shortener
COPY --from=build /out/opt/shortener /opt/shortener

# Every flag also reads SHORTENER_<FLAG>; these point the binary at the installed files.
# SHORTENER_DATA_DIR must be writable (every subcommand checks it at start): in Kubernetes it is
# an emptyDir, in docker-compose the container's own layer.
ENV SHORTENER_DATA_DIR=/var/lib/shortener \
    SHORTENER_DATA_FILES=/opt/shortener/data \
    SHORTENER_WEB_DIR=/opt/shortener/web \
    SHORTENER_LISTEN=0.0.0.0:8080
USER 10001:10001
WORKDIR /var/lib/shortener
# 8080: serve (HTTP, /healthz, /readyz, /metrics); 9091: worker (--metrics-listen).
EXPOSE 8080 9091

# Liveness of the default role, serve, on the port of SHORTENER_LISTEN. docker-compose.yml
# overrides it for the worker (port 9091) and disables it for migrate; Kubernetes ignores it and
# uses the probes in k8s/base.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${SHORTENER_LISTEN##*:}/healthz" || exit 1

# The binary handles SIGTERM itself (drains requests, ships buffered clicks, exits 0 within 5 s)
# and starts no child processes, so it runs as PID 1 without an init.
ENTRYPOINT ["/opt/shortener/bin/shortener"]
CMD ["serve"]
