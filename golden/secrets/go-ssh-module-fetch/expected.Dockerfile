FROM golang:1.24 AS build
ENV GOPRIVATE=github.com/acme/*
RUN mkdir -p /root/.ssh && ssh-keyscan github.com >> /root/.ssh/known_hosts
RUN git config --global url."git@github.com:".insteadOf "https://github.com/"
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=ssh go mod download
COPY . .
RUN --mount=type=ssh CGO_ENABLED=0 go build -o /out/api ./cmd/api

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/api /api
ENTRYPOINT ["/api"]
