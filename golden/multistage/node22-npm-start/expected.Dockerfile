FROM node:22-bookworm AS build
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm ci
RUN npm prune --omit=dev
COPY . .

FROM gcr.io/distroless/nodejs22-debian13:nonroot
COPY --from=build /usr/src/app /usr/src/app
WORKDIR /usr/src/app
EXPOSE 3000
ENTRYPOINT []
CMD ["/nodejs/bin/node", "src/server.js", "--port", "3000"]
