FROM gradle:8.10-jdk17 AS build
WORKDIR /home/gradle/src
COPY . .
RUN gradle bootJar --no-daemon

FROM gcr.io/distroless/java17-debian13:nonroot
COPY --from=build /home/gradle/src/build/libs/app.jar /home/gradle/src/build/libs/app.jar
WORKDIR /home/gradle/src
ENTRYPOINT ["/usr/bin/java", "-jar", "/home/gradle/src/build/libs/app.jar"]
