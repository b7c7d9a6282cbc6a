Gem::Specification.new do |s|
  s.name = "greeting"
  s.version = "1.0.0"
  s.summary = "A tiny C extension (dockerfix e2e test fixture)"
  s.authors = ["dockerfix"]
  s.license = "MIT"
  s.files = ["lib/greeting.rb", "ext/greeting/extconf.rb", "ext/greeting/greeting.c"]
  s.extensions = ["ext/greeting/extconf.rb"]
  s.require_paths = ["lib"]
end
