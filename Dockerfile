# The service in a container: built in one stage, run in a small one as a user without rights,
# its data (the SQLite file, the generated link secret, .eml files) on a volume.
#   docker build -t safeguard .
#   docker run -p 8080:8080 -v safeguard-data:/var/lib/safeguard safeguard
# With PostgreSQL, set SAFEGUARD_DATABASE_URL (and SAFEGUARD_MIGRATION_DATABASE_URL for the
# owner's role); behind a reverse proxy, SAFEGUARD_TRUSTED_PROXIES. See README, "Deploying".
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin safeguard

FROM debian:bookworm-slim
# CA certificates for a mail relay over TLS; Debian's stable security updates, so not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/safeguard \
        --shell /usr/sbin/nologin safeguard \
    && install -d -o safeguard -g safeguard -m 0700 /var/lib/safeguard
COPY --from=build /src/target/release/safeguard /usr/local/bin/safeguard
# Inside a container the service must be reachable from outside it; `cargo run` keeps 127.0.0.1.
ENV SAFEGUARD_DATA_DIR=/var/lib/safeguard \
    SAFEGUARD_BIND=0.0.0.0:8080
VOLUME ["/var/lib/safeguard"]
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/safeguard"]
CMD ["serve"]
