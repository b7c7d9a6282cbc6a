"""The app of the secret-file case: it only shows that the build step could read the .netrc."""

with open("/app/build-proof.txt") as f:
    print("build-proof:", f.read())
