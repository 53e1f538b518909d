# Multi-stage build: compile with the Rust toolchain, run on a slim Debian as a non-root user.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole build context: .dockerignore lists what it holds.
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data investai \
 && mkdir -p /data && chown investai /data
COPY --from=build /src/target/release/investai /usr/local/bin/investai
USER investai
WORKDIR /data
ENV INVESTAI_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/investai.db
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["investai"]
# Production: set INVESTAI_JWT_SECRET and DATABASE_URL=postgres://…; `serve --demo` for a demo.
CMD ["serve"]
