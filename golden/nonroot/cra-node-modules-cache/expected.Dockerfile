FROM node:22
WORKDIR /usr/src/app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN mkdir -p /usr/src/app \
 && chown 1000:1000 /usr/src/app \
 && mkdir -p /usr/src/app/node_modules/.cache \
 && chown -R 1000:1000 /usr/src/app/node_modules/.cache
USER 1000:1000
EXPOSE 3000
CMD ["npm", "start"]
