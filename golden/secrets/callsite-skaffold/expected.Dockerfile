FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci --omit=dev
COPY server.js .
CMD ["node", "server.js"]
