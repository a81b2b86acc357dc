# The vigil agent: the bundle from `npm run build` (dist/: vigil.mjs, its chunks, etcd's protobuf
# files, the status page; no native addon, so the same for every architecture) on a distroless Node
# root: Node, the C and C++ runtime it links, CA certificates. No shell, no package manager.
#
# Where a registry can be reached, the distroless Node image is the base:
#   npm ci && npm run build
#   docker build -t vigil:0.1.0 .                                     # this machine's architecture
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/vigil:0.1.0 --push .
# `npm run image` makes the same root locally instead (scripts/base-image.sh: Node from the npm
# registry, libraries from Debian's packages) for amd64 and arm64, and builds on it with BASE.
ARG BASE=gcr.io/distroless/nodejs24-debian12:nonroot
FROM ${BASE}
ARG VIGIL_REVISION=unknown
LABEL org.opencontainers.image.title=vigil \
  org.opencontainers.image.description="Cluster-health exporter: a per-node agent that exercises etcd, the scheduler, the network and the control plane the way workloads do" \
  org.opencontainers.image.licenses=Apache-2.0 \
  org.opencontainers.image.revision=${VIGIL_REVISION}
ENV NODE_ENV=production VIGIL_REVISION=${VIGIL_REVISION} PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin
COPY dist/ /usr/lib/vigil/
COPY image/vigil /usr/local/bin/vigil
USER 10924:10924
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil"]
EXPOSE 10924
# The V8 flags of the bundle's shebang (scripts/build.mjs NODE_FLAGS; test/container.test.ts checks the
# running agent has them).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-opt", "--no-maglev", "/usr/lib/vigil/vigil.mjs"]
CMD ["agent", "--storage.path=/var/lib/vigil"]
