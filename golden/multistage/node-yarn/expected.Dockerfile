FROM node:24 AS build
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --production --frozen-lockfile
COPY . .

FROM gcr.io/distroless/nodejs24-debian13:nonroot
COPY --from=build /app /app
WORKDIR /app
ENTRYPOINT []
CMD ["/nodejs/bin/node", "server.js"]
