// acme images
variable "NPM_TOKEN" {
  default = ""
}

group "default" {
  targets = ["app"]
}

target "app" {
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    NODE_ENV  = "production"
  }
  tags = ["acme/app:latest"]
  secret = ["id=npm_token,env=NPM_TOKEN"]
}

target "docs" {
  context = "docs"
}
