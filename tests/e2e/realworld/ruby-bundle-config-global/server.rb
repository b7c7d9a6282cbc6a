# a tiny HTTP server on Ruby's standard library: answers with the compiled gem's greeting
require "bundler/setup"
require "greeting"
require "socket"

server = TCPServer.new("0.0.0.0", Integer(ENV.fetch("PORT", "3000")))
$stdout.sync = true
puts "listening"
loop do
  client = server.accept
  client.gets
  body = "ruby #{RUBY_VERSION[0, 3]} #{Greeting.hello} #{ENV.fetch('APP_ENV', '-')}\n"
  client.write "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}"
  client.close
end
