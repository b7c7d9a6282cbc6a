FROM node:22-bookworm-slim
ENV NODE_ENV=production LOG_FILE=/dev/stdout
WORKDIR /app
COPY . .
CMD ["node", "server.js"]
