# The collector image: `docker build -t meshward-collector .` (the filter ships separately,
# as an OCI Wasm artifact: `make wasm-oci`).
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends protobuf-compiler && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p meshward && cp target/release/meshward /meshward

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/meshward meshward && mkdir -p /var/lib/meshward/spool \
    && chown -R meshward /var/lib/meshward
COPY --from=build /meshward /usr/local/bin/meshward
USER 10001
# gRPC ingest, HTTP API (health, metrics, /api/v1)
EXPOSE 50051 8080
ENV MESHWARD_INGEST__LISTEN=0.0.0.0:50051 MESHWARD_API__LISTEN=0.0.0.0:8080 MESHWARD_LOG__FORMAT=json
ENTRYPOINT ["/usr/local/bin/meshward"]
CMD ["serve", "--config", "/etc/meshward/meshward.yaml"]
