FROM node:22 AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build

FROM node:22 AS builder
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist

FROM gcr.io/distroless/nodejs22-debian13:nonroot
COPY --from=builder /app /app
WORKDIR /app
ENTRYPOINT []
CMD ["/nodejs/bin/node", "dist/main.js"]
