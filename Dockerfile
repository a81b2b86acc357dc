# syntax=docker/dockerfile:1
# Build: docker build --build-arg VIGIL_REVISION=$(git rev-parse --short=12 HEAD) -t vigil .

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles from source against Node's headers.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ARG VIGIL_REVISION=unknown
ENV NODE_ENV=production VIGIL_REVISION=${VIGIL_REVISION}
WORKDIR /app
RUN groupadd --system --gid 10924 vigil && useradd --system --uid 10924 --gid vigil --home-dir /nonexistent --shell /usr/sbin/nologin vigil \
  && mkdir -p /var/lib/vigil && chown vigil:vigil /var/lib/vigil
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 10924:10924
VOLUME ["/var/lib/vigil"]
EXPOSE 10924
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["agent", "--storage.path=/var/lib/vigil"]
