FROM node:22-bookworm-slim
WORKDIR /home/node/app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
RUN mkdir -p /home/node/app \
 && chown 1000:1000 /home/node/app
USER 1000:1000
EXPOSE 3000
CMD ["node", "server.js"]
