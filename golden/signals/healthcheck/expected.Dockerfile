FROM python:3.13-slim
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/sh", "-c", "curl -f http://localhost:8000/ || exit 1"]
CMD ["python", "app.py"]
FROM python:3.13-slim
HEALTHCHECK --start-period=20s CMD ["./fetchstatus.py"]
CMD ["python", "app.py"]
