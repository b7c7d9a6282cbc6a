FROM gcr.io/distroless/static-debian13:nonroot
COPY bin/server /usr/local/bin/server
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/server"]
