FROM node:22-bookworm-slim
WORKDIR /app
COPY . .
CMD ["/bin/sh", "-c", "cd /app/server && NODE_ENV=production exec node index.js --port $PORT"]
