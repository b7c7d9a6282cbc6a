FROM node:26-alpine AS build
RUN apk add --no-cache python3 make g++
WORKDIR /app
COPY . .
RUN npm install --production

FROM node:26-alpine
RUN apk add --no-cache python3
COPY --from=build /app /app
WORKDIR /app
CMD ["node", "index.js"]
