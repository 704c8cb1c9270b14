# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with the dev dependencies, then ship
# only dist/src and the production dependencies, running as the image's
# non-root node user (uid 1000).

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY hack ./hack
RUN node_modules/.bin/tsc -p tsconfig.json

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
USER node
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["run"]
