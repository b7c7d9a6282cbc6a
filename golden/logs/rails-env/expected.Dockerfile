FROM ruby:3.3-slim
ENV RAILS_LOG_TO_STDOUT=1
WORKDIR /rails
COPY . .
RUN bundle install
CMD ["bundle", "exec", "rails", "server", "-b", "0.0.0.0"]
