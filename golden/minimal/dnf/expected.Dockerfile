FROM registry.access.redhat.com/ubi9/ubi-minimal
RUN microdnf install -y shadow-utils tar; useradd -r app
FROM fedora:40
RUN dnf install -y --setopt=install_weak_deps=False nginx && dnf clean all
CMD ["nginx", "-g", "daemon off;"]
