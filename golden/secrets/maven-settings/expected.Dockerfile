FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
RUN mkdir -p /root/.m2
COPY pom.xml .
RUN --mount=type=secret,id=maven-settings,target=/root/.m2/settings.xml,required=true mvn -B dependency:go-offline
COPY src ./src
RUN --mount=type=secret,id=maven-settings,target=/root/.m2/settings.xml,required=true mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
COPY --from=build /build/target/app.jar /app.jar
CMD ["java", "-jar", "/app.jar"]
