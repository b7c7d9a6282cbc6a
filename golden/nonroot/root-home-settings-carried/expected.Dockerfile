FROM debian:13
RUN apt-get update && apt-get install -y --no-install-recommends ruby-full build-essential git \
 && rm -rf /var/lib/apt/lists/*
RUN gem install bundler:2.5.22 && bundle config set --global without 'development test' \
 && git config --global url."https://github.com/".insteadOf git@github.com: \
 && git config --global credential.helper store
COPY pip.conf /root/.config/pip/pip.conf
WORKDIR /app
COPY . .
RUN bundle install
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir -p /app \
 && chown 10001:10001 /app \
 && mkdir -p /home/app/.config/pip \
 && if [ -e /root/.bundle ]; then cp -a /root/.bundle /home/app/; fi \
 && if [ -e /root/.gitconfig ]; then cp -a /root/.gitconfig /home/app/; fi \
 && if [ -e /root/.config/pip/pip.conf ]; then cp -a /root/.config/pip/pip.conf /home/app/.config/pip/; fi \
 && chown -R 10001:10001 /home/app
USER 10001:10001
CMD ["bundle", "exec", "ruby", "app.rb"]
