Gem::Specification.new do |s|
  s.name = "devtool"
  s.version = "1.0.0"
  s.summary = "a development-only helper (stands in for pry, rubocop, ...)"
  s.authors = ["dockerfix e2e"]
  s.files = ["lib/devtool.rb"]
  s.license = "MIT"
end
