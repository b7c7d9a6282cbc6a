FROM centos:7
RUN yum -y install httpd mod_ssl && \
    yum -y update && yum clean all
COPY site /var/www/html
CMD ["httpd", "-DFOREGROUND"]
