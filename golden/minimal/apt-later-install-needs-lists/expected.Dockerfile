FROM ubuntu:24.04
RUN apt-get update && apt-get install --no-install-recommends -y software-properties-common
RUN apt-get install --no-install-recommends -y nginx
CMD ["nginx", "-g", "daemon off;"]
