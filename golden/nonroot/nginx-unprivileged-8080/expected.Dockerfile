FROM nginx:1.27
COPY nginx.conf /etc/nginx/conf.d/default.conf
COPY dist/ /usr/share/nginx/html/
RUN sed -i -e '/^\s*user\s/d' -e 's,^\(\s*pid\s\+\).*;,\1/tmp/nginx.pid;,' /etc/nginx/nginx.conf \
 && chown -R 101:101 /var/cache/nginx
USER 101:101
EXPOSE 8080
