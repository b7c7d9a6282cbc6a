FROM ruby:3.3 AS build
WORKDIR /app
COPY Gemfile Gemfile.lock ./
RUN bundle install
COPY . .

FROM ruby:3.3-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmariadb3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bundle /usr/local/bundle
COPY --from=build /app /app
WORKDIR /app
CMD ["bundle", "exec", "rackup", "-o", "0.0.0.0"]
