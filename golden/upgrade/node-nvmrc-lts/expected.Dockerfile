FROM node:24-alpine
WORKDIR /app
COPY . .
RUN npm ci
CMD ["node", "index.js"]
