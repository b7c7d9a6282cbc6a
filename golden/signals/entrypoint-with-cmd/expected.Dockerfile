FROM python:3.13-slim
ENTRYPOINT ["python", "manage.py"]
CMD ["runserver"]
