FROM registry.access.redhat.com/ubi9/ubi-minimal:9.6
RUN microdnf install -y java-21-openjdk-headless && microdnf clean all
COPY app.jar /deployments/app.jar
USER 10001:10001
CMD ["java", "-jar", "/deployments/app.jar"]
