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
    NPM_TOKEN = "${NPM_TOKEN}" # from the environment
  }
  tags = ["acme/app:latest"]
}

target "docs" {
  context = "docs"
}
