# The Rusk image: one binary, every role (`serve`, `api`, `worker`, `migrate`, `keys`, ...).
#
#   docker build -t rusk .
#   docker run -p 8080:8080 -v rusk-state:/var/lib/rusk -v "$PWD/datasets:/data:ro" rusk
#
# A keyless Rusk answers loopback clients only, and a published port's clients are not loopback
# to the container: create a key first, in the same volume (or DATABASE_URL):
#   docker run --rm -v rusk-state:/var/lib/rusk rusk keys create --tenant NAME
#
# GPU workers use the same binary on a CUDA runtime base; libcuda comes from the driver at run
# time (the NVIDIA container toolkit mounts it), so nothing is compiled differently:
#   docker build --build-arg RUNTIME_BASE=nvidia/cuda:12.8.1-runtime-ubuntu24.04 -t rusk:gpu .
# The base's glibc must be as new as the binary's symbols (GLIBC_2.35 today; the builder has
# bookworm's 2.36): Ubuntu 24.04 has 2.39.
#
# deploy/image/check.sh checks this file's runtime stage without a Docker engine.

ARG RUST_VERSION=1.95
ARG RUNTIME_BASE=debian:bookworm-slim

# The builder is bookworm, like the default runtime, so the binary's glibc symbols exist there.
FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# Dependencies are cooked in their own layer, rebuilt only when Cargo.toml or Cargo.lock
# change. Cook and build take the same profile, flags and target, or cargo rebuilds them all.
# The release profile is fat LTO with one codegen unit: a cold build takes about 25 min on 2
# cores.
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --bin rusk --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin rusk

FROM ${RUNTIME_BASE} AS runtime
# The binary needs only glibc; TLS is rustls, no libssl. The object-store clients (S3, GCS,
# Azure, https sources) trust the system's CA store, hence ca-certificates. Versions are not
# pinned: the same line must work on the CUDA (Ubuntu) base, and a rebuild should pick up
# security updates.
ARG DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /src/target/release/rusk /usr/local/bin/rusk
# A fixed uid/gid, so volumes and Kubernetes' runAsUser/fsGroup can name it. Only the data
# directory is the user's; /data (sources) stays read-only to it unless a writable volume is
# mounted there.
RUN groupadd --gid 10001 rusk \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/rusk --no-create-home \
        --shell /usr/sbin/nologin rusk \
    && mkdir -p /var/lib/rusk /data \
    && chown 10001:10001 /var/lib/rusk \
    && chmod 0750 /var/lib/rusk

# In a container the API must listen on every interface to be published. The job table,
# results and spill files go to the volume; relative source paths resolve under /data.
ENV RUSK_LISTEN=0.0.0.0:8080 \
    RUSK_DATA_DIR=/var/lib/rusk \
    RUSK_DATA_ROOT=/data
VOLUME ["/var/lib/rusk"]
WORKDIR /var/lib/rusk
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# `/metrics` for a `rusk worker` needs RUSK_METRICS_LISTEN (e.g. 0.0.0.0:9090, opt-in: it has no
# credential); publish that port yourself when you set it.
EXPOSE 8080
# The image has no curl or wget; bash (essential in Debian and Ubuntu) speaks HTTP over its
# /dev/tcp. The port follows RUSK_LISTEN (a --listen flag in the command is not seen here).
# Docker's default stop timeout (10 s) is shorter than RUSK_SHUTDOWN_GRACE (30 s): use
# `docker stop -t 40` or lower the grace.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${RUSK_LISTEN##*:}\" && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["rusk"]
CMD ["serve"]
