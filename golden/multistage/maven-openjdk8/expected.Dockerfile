FROM maven:3.6.3-openjdk-8 AS build
WORKDIR /build
COPY . .
RUN mvn -q package

FROM eclipse-temurin:8-jre
COPY --from=build /build/target/app.jar /build/target/app.jar
WORKDIR /build
EXPOSE 8080
ENTRYPOINT []
CMD ["/opt/java/openjdk/bin/java", "-jar", "/build/target/app.jar"]
