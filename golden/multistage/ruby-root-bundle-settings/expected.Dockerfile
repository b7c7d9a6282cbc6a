FROM ruby:3.3 AS build

RUN apt-get update -qq && apt-get install -y build-essential

# the development and test gems are never installed in the image: a global setting, made as root
RUN bundle config set --global without 'development test'

WORKDIR /usr/src/app
COPY Gemfile Gemfile.lock ./
COPY vendor ./vendor
RUN bundle install --local

COPY . .

ENV APP_ENV=production PORT=3000

FROM ruby:3.3-slim
COPY --from=build /usr/local/bundle /usr/local/bundle
COPY --from=build /usr/src/app /usr/src/app
COPY --from=build /root/.bundle /root/.bundle
WORKDIR /usr/src/app
ENV APP_ENV=production PORT=3000
EXPOSE 3000
CMD ["bundle", "exec", "ruby", "server.rb"]
