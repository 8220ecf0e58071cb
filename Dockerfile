# Gantry's image: built by the same scripts CI runs (scripts/deps.sh, scripts/build.sh)
# on Debian 12, run on Debian 12 slim as an unprivileged user. The install in crds/ runs
# it with a read-only root filesystem and no capabilities.
#   docker build -t gantry .
FROM debian:12 AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh
COPY . .
RUN rm -rf build && scripts/build.sh gantry && strip build/cmd/gantry

FROM debian:12-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libcpp-httplib0.11 libboost-json1.81.0 libyaml-cpp0.7 libre2-9 libssl3 zlib1g libbrotli1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/cmd/gantry /usr/local/bin/gantry
USER 65532:65532
EXPOSE 8080 8443 9901
ENTRYPOINT ["/usr/local/bin/gantry"]
CMD ["serve", "--in-cluster", "--port-map", "80:8080,443:8443", "--admin", "0.0.0.0:9901"]
