FROM node:22 AS build
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm ci
RUN npm prune --omit=dev
COPY . .

FROM gcr.io/distroless/nodejs22-debian13:nonroot
COPY --from=build /usr/src/app /usr/src/app
WORKDIR /usr/src/app
EXPOSE 3000
HEALTHCHECK CMD ["/nodejs/bin/node", "-e", "require('http').get('http://127.0.0.1:3000/healthz', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT []
CMD ["/nodejs/bin/node", "server.js"]
