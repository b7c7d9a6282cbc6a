FROM openjdk:8-jdk-alpine AS build
WORKDIR /app
COPY . .
RUN ./mvnw -q package -DskipTests

FROM eclipse-temurin:8-jre-alpine
COPY --from=build /app/target/app.jar /app/target/app.jar
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["/opt/java/openjdk/bin/java", "-Xmx256m", "-jar", "/app/target/app.jar"]
