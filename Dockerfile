# eas-bench: eascmd, eascmd-controller and eascmd-agent in one image.
# The controller and the agent pods of deploy/kubernetes/ both run it.
# The build stage installs from the lockfile with the command CI runs on every
# change (.ci/run: npm ci; its prepare step is npm run build), then drops the
# development packages.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY controller ./controller
COPY agent ./agent
COPY fixtures ./fixtures
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
RUN ln -s /app/bin/eascmd /usr/local/bin/eascmd \
 && ln -s /app/bin/eascmd-controller /usr/local/bin/eascmd-controller \
 && ln -s /app/bin/eascmd-agent /usr/local/bin/eascmd-agent \
 && mkdir -p /data && chown 1000:1000 /data
# the image's own node user, by number, so Kubernetes can check runAsNonRoot
USER 1000:1000
EXPOSE 8020
CMD ["eascmd-controller", "--host", "0.0.0.0", "--port", "8020", "--data-dir", "/data"]
