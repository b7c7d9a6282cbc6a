FROM python:3.13-slim
RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf,required=true pip install --no-cache-dir private-lib==1.2
CMD ["python", "-m", "private_lib"]
