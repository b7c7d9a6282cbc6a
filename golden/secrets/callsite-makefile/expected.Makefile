# Images
IMAGE ?= acme/app

.PHONY: image release
image:  ## build the app image
	docker build --secret id=npmrc,src=.npmrc -t $(IMAGE) .

release: image
	@docker build \
		--platform linux/amd64 \
		-f $(DOCKERFILE) -t $(IMAGE):release .
