FROM python:3.13-slim
CMD ["/bin/sh", "-c", "python manage.py migrate &&     python manage.py collectstatic --noinput &&     exec gunicorn -b :8000 site.wsgi"]
