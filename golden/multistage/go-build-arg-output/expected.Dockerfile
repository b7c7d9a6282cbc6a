FROM golang:1.24 AS build
# one Dockerfile for several services of the repository: CI passes --build-arg SERVICE=<name>
ARG SERVICE=api
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /usr/local/bin/${SERVICE} .

FROM gcr.io/distroless/static-debian13:nonroot
ARG SERVICE=api
COPY --from=build /usr/local/bin/${SERVICE} /usr/local/bin/${SERVICE}
WORKDIR /src
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/api"]
