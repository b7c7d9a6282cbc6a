FROM nginx:1.27
COPY nginx.conf /etc/nginx/nginx.conf
copy --chown=nginx:nginx site/ /usr/share/nginx/html/
COPY ["entrypoint.sh", "/docker-entrypoint.d/50-app.sh"]
