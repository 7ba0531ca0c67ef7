# syntax=docker/dockerfile:1
# The host image for people with a container engine: todo-host (static,
# musl), the manifest, the compiled components and the web app's export.
# `cargo xtask image` builds the same layout without an engine (from
# scratch, see xtask/src/image.rs); this file is checked by hadolint.
#
#   docker build -t todo-host .
#   docker run -p 8080:8080 --read-only -v todo-data:/data todo-host

FROM node:22-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
ENV NEXT_TELEMETRY_DISABLED=1
RUN npm run build

FROM rust:1.95-bookworm AS build
WORKDIR /src
# musl-tools: zstd (C, inside wasmtime) for the static host. Debian's
# package version follows the base image's release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add wasm32-wasip2 x86_64-unknown-linux-musl
COPY . .
COPY --from=web /src/frontend/out /src/build/web
# TODO_WEB=0: the web app comes from the stage above.
RUN TODO_WEB=0 cargo xtask build \
    && CC_x86_64_unknown_linux_musl=musl-gcc \
       cargo build --release --target x86_64-unknown-linux-musl -p todo-host --bin todo-host

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/todo-host /todo-host
COPY --from=build /src/spin.toml /app/spin.toml
COPY --from=build /src/build/components /app/build/components
COPY --from=build /src/build/web /app/build/web
WORKDIR /app
ENV TODO_MANIFEST=/app/spin.toml
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/todo-host"]
CMD ["up", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]
