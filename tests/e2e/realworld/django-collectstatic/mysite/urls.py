import os

from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def index(request):
    collected = os.path.exists(os.path.join(settings.STATIC_ROOT, "admin", "css", "base.css"))
    return HttpResponse(f"django static collected: {'yes' if collected else 'no'}\n", content_type="text/plain")


urlpatterns = [path("", index)]
