FROM ruby:3.3-slim
CMD ["bundle", "exec", "puma"]
