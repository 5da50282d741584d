# One image recipe for every Papka service. Build from the repository root (the context
# must be the root), naming the service, its port and, for documents, the extra packages:
#   docker build --build-arg SERVICE=gateway      --build-arg PORT=3000 -t papka/gateway .
#   docker build --build-arg SERVICE=contractors  --build-arg PORT=3001 -t papka/contractors .
#   docker build --build-arg SERVICE=documents    --build-arg PORT=3002 \
#     --build-arg APT_PACKAGES="libnss3 libnspr4 libexpat1 fonts-liberation fonts-noto-core" -t papka/documents .
#   docker build --build-arg SERVICE=interactions --build-arg PORT=3003 -t papka/interactions .
# docker-compose.yml passes the same arguments.
# The service runs from its TypeScript source through SWC (@swc-node/register), which
# honours the @papka/* paths of tsconfig.base.json, so there is no separate build step.
# Node 20 matches .nvmrc; package.json engines also allow 22 (--build-arg NODE_VERSION=22).
ARG NODE_VERSION=20
FROM node:${NODE_VERSION}-bookworm-slim

# tini as PID 1: forwards SIGTERM to node and reaps zombies (Kubernetes has no --init).
# APT_PACKAGES: extra Debian packages, space-separated. documents renders with the
# chrome-headless-shell inside the npm package @sparticuz/chromium (a dependency, so `npm ci`
# brings it; unpacked into /tmp at start-up), which needs libnss3 and libnspr4 (and libexpat1),
# plus Cyrillic fonts (templates bundle their own; these cover the rest):
#   APT_PACKAGES="libnss3 libnspr4 libexpat1 fonts-liberation fonts-noto-core"
# Without the libraries its readiness check fails and its log names them. To render with Debian's
# Chromium instead, add `chromium` and set CHROMIUM_PATH=/usr/bin/chromium at run time.
ARG APT_PACKAGES=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ${APT_PACKAGES} \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    SCARF_ANALYTICS=false

# Dependencies first (cached until package*.json change). @swc-node/register and
# @swc/core are runtime dependencies; typescript comes in as their peer dependency.
# `npm ci` refuses a lockfile that lacks other platforms' optional packages (one written
# against a registry that serves only some platforms); `npm install` then installs the
# locked versions and fills those in, without touching package*.json.
# patches/: fixes to dependencies that patch-package applies on install (npm's postinstall).
COPY package.json package-lock.json ./
COPY patches/ patches/
RUN (npm ci --omit=dev \
     || { echo 'npm ci refused the lockfile; falling back to npm install' >&2; \
          npm install --omit=dev --no-save; }) \
 && npm cache clean --force

COPY tsconfig.base.json tsconfig.json .swcrc ./
COPY libs/ libs/

# SERVICE and PORT are declared only here: every RUN after an ARG is keyed on its value,
# so the layers above are shared by all services built with the same APT_PACKAGES.
# Ports: gateway 3000, contractors 3001, documents 3002, interactions 3003.
ARG SERVICE
ARG PORT
# An empty SERVICE would make the COPY below take all of apps/; fail early instead.
RUN case "${SERVICE}" in \
      ''|*[!a-z0-9-]*) echo "SERVICE='${SERVICE}': pass --build-arg SERVICE=<a directory of apps/>, e.g. gateway" >&2; exit 1 ;; \
    esac \
 && case "${PORT}" in \
      ''|*[!0-9]*) echo "PORT='${PORT}': pass --build-arg PORT=<number> (gateway 3000, contractors 3001, documents 3002, interactions 3003)" >&2; exit 1 ;; \
    esac
COPY apps/${SERVICE}/ apps/${SERVICE}/

# ARG values do not reach the running container: keep the service's name for the CMD.
# No CHROMIUM_PATH: documents uses the npm chrome-headless-shell unless it is set.
ENV PAPKA_SERVICE=${SERVICE} \
    PORT=${PORT}
# Files stay root-owned (read-only for the app); the SWC transform cache goes to /tmp.
USER node
EXPOSE ${PORT}

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# The CMD goes through sh only to expand PAPKA_SERVICE; `exec` then replaces sh with node,
# so node is tini's direct child and gets its signals. Arguments given to the container
# (Kubernetes `args`, `docker run IMAGE ...`, compose `command`) replace this CMD and still
# run under tini, e.g. the migrations:
#   args: ["node", "-r", "@swc-node/register", "apps/contractors/src/migrate.ts"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/bin/sh", "-c", "exec node -r @swc-node/register \"apps/${PAPKA_SERVICE}/src/main.ts\""]
