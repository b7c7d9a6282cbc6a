FROM ubuntu:24.04 AS build
RUN apt-get update && apt-get install -y build-essential
WORKDIR /src
COPY . .
RUN g++ -O2 -std=c++17 -o /usr/local/bin/server main.cpp

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /usr/local/bin/server /usr/local/bin/server
WORKDIR /src
EXPOSE 8080
CMD ["/usr/local/bin/server", "--port", "8080"]
