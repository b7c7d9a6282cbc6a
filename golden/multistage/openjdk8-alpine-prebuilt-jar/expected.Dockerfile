FROM eclipse-temurin:8-jre-alpine
VOLUME /tmp
ARG JAR_FILE=target/*.jar
ADD target/app.jar app.jar
EXPOSE 8080
ENTRYPOINT ["java","-Djava.security.egd=file:/dev/./urandom","-jar","/app.jar"]
