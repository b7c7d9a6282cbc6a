FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml .
COPY src ./src
RUN mvn -B package -DskipTests

FROM gcr.io/distroless/java21-debian13:nonroot
COPY --from=build /build/target/app.jar /build/target/app.jar
WORKDIR /build
EXPOSE 8080
ENTRYPOINT []
CMD ["/usr/bin/java", "-Xmx512m", "-XX:+UseG1GC", "-jar", "/build/target/app.jar", "--server.port=8080"]
