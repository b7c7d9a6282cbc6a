# syntax=docker/dockerfile:1
FROM golang:1.24 AS build
RUN --mount=type=secret,id=github_token,required=true export GITHUB_TOKEN="$(cat /run/secrets/github_token)" && git config --global url."https://${GITHUB_TOKEN}@github.com/".insteadOf "https://github.com/"
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
