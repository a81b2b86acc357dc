# The vigil agent: the bundle from `npm run build` (dist/: vigil.mjs, its chunks, etcd's protobuf
# files, the status page; no native addon) on Debian bookworm with Node 24. `npm run image` builds
# it, making the base image first where none can be pulled (scripts/base-image.sh). By hand:
#   npm ci && npm run build
#   docker build --build-arg VIGIL_REVISION=$(git rev-parse --short=12 HEAD) -t vigil:0.1.0 .
ARG NODE_MAJOR=24
FROM vigil-base:bookworm-node${NODE_MAJOR}
ARG VIGIL_REVISION=unknown
ENV NODE_ENV=production VIGIL_REVISION=${VIGIL_REVISION}
COPY dist/ /usr/lib/vigil/
# `vigil` on the PATH runs the bundle through its shebang (`env -S node <V8 flags>`), as the
# package's bin does: `kubectl exec ds/vigil -- vigil status` works.
RUN ln -s /usr/lib/vigil/vigil.mjs /usr/local/bin/vigil \
  && echo 'vigil:x:10924:10924:vigil:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
  && echo 'vigil:x:10924:' >> /etc/group \
  && mkdir -p /var/lib/vigil && chown 10924:10924 /var/lib/vigil
USER 10924:10924
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil"]
EXPOSE 10924
ENTRYPOINT ["vigil"]
CMD ["agent", "--storage.path=/var/lib/vigil"]
