"""URLs and views of the Django application of the framework matrix: the
same routes as flask_app.py; FileResponse serves the download (Django's
WSGI handler wraps it with wsgi.file_wrapper)."""
import os

from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

HERE = os.path.dirname(os.path.abspath(__file__))


@require_safe
def json_view(request):
    return JsonResponse({"framework": "django", "args": dict(request.GET.lists()),
                         "script_name": request.META.get("SCRIPT_NAME"),
                         "path": request.path, "path_info": request.path_info})


@require_POST
def form(request):
    return JsonResponse({"form": dict(request.POST.lists()),
                         "content_type": request.content_type})


def go(request):
    return redirect(reverse("json") + "?to=here")


def hello(request, name):
    return HttpResponse("hello %s from django\n" % name, content_type="text/plain")


def cookies(request):
    resp = JsonResponse({"cookies": request.COOKIES})
    resp.set_cookie("seen", "yes", path="/")
    return resp


def stream(request):
    return StreamingHttpResponse(("line %d %s\n" % (i, "x" * 100) for i in range(200)),
                                 content_type="text/plain")


def download(request):
    return FileResponse(open(os.path.join(HERE, "download.txt"), "rb"),
                        as_attachment=True, filename="download.txt",
                        content_type="text/plain")


urlpatterns = [
    path("json", json_view, name="json"),
    path("form", form),
    path("redirect", go),
    path("hello/<str:name>", hello),
    path("cookies", cookies),
    path("stream", stream),
    path("download", download),
]
