# Builds every Sluice executable once, in release mode, and ships them in a slim runtime image.
# The build stage runs the same command as scripts/run-local (swift build -c release).

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka-dev zlib1g-dev libsnappy-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first, so that dependency resolution is cached apart from source changes.
COPY Package.swift ./
RUN swift package resolve
COPY Shared Shared
COPY Services Services
COPY loadgen loadgen
COPY Benchmarks Benchmarks
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib \
    && mkdir -p /out \
    && for name in sluice-ingest sluice-writer sluice-query sluice-bridge sluice-admin sluice-local-kafka sluice-producer sluice-client sluice-verify; do \
         cp "$(swift build -c release --show-bin-path)/$name" /out/; \
       done

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka1 zlib1g libsnappy1v5 ca-certificates curl tzdata libjs-dygraphs \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --uid 10001 sluice \
    && mkdir -p /results /keys && chown sluice /results /keys  # named volumes mounted here inherit this owner
COPY --from=build /out/ /usr/local/bin/
USER sluice
# Listen on every interface inside the container; compose publishes only what it should.
ENV SLUICE_BIND_HOST=0.0.0.0
CMD ["sluice-query"]
