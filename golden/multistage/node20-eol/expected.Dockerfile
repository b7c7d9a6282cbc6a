FROM node:20 AS build
WORKDIR /app
COPY . .
RUN npm ci --omit=dev

FROM node:20-slim
COPY --from=build /app /app
WORKDIR /app
ENTRYPOINT []
CMD ["/usr/local/bin/node", "index.js"]
