# One image for every Meridian role: `docker run IMAGE <subcommand> ...`, e.g.
#   docker run --rm -p 53:53/udp -p 53:53/tcp --sysctl net.ipv4.ip_unprivileged_port_start=0 \
#     -e MERIDIAN_CONTROL_TOKEN=... IMAGE dns --config config/compose.yaml
# docker-compose.yml runs the whole CDN from it (README: "Docker compose").

# --- build: compile the TypeScript to dist/ and the addons in native/ --------------------------
FROM node:22-slim AS build
WORKDIR /app
# npm ci builds the DNS server's batched UDP addon and the edge's batched accept with node-gyp,
# against this image's own Node headers; without them the DNS server would fall back to
# node:dgram (~2x the CPU per query) and the edge to one accept per event-loop turn.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund && test -f build/Release/udp_batch.node && test -f build/Release/tcp_accept.node
# Everything .dockerignore lets through (sources and tsconfig; not tests, benches, dist/ or
# node_modules/), so a new source folder needs no new line here.
COPY . .
RUN npm run build

# --- runtime: production dependencies, the compiled code, configs and GeoIP data ------------
FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
# The anycast variant (docker-compose.anycast.yml): bird2, the BGP speaker of each PoP and of the
# router, and iproute2's `ip`, with which `meridian anycast` puts the anycast address on a dummy
# interface and makes its lease interface (unshare and nsenter are util-linux, already here).
# Unused by the plain stack; about 5 MB.
RUN apt-get update && apt-get install -y --no-install-recommends bird2 iproute2 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: no compiler here; the addons come built from the build stage (same base image).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/Release/udp_batch.node ./build/Release/udp_batch.node
COPY --from=build /app/build/Release/tcp_accept.node ./build/Release/tcp_accept.node
COPY geo-data/*.mmdb ./geo-data/
# Owned by `node`: admin overrides (`meridian pop drain`) are written beside the config file.
COPY --chown=node:node config ./config
USER node
# The DNS server listens on 53 (udp+tcp) and serves its control port on 8053; edges serve HTTP on
# 8080 (control 9080 on loopback); the demo origin serves on 8081.
EXPOSE 53/udp 53/tcp 8053 8080 8081
ENTRYPOINT ["node", "bin/meridian.js"]
CMD ["help"]
