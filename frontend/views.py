from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def network_map(request):
    """The river network map: districts, reaches and water bodies; a tap shows who gets a clue there."""
    return render(request, "frontend/map.html")


def healthz(request):
    """Report the database, Redis, the Celery workers and beat (JSON); 503 unless all four are ok.

    ?service=database&service=redis limits the report (and the status) to those: the web container's
    healthcheck asks only for its own dependencies, so a dead worker never restarts the web.
    """
    from django.http import JsonResponse

    from config.health import CHECKS, services_status

    names = [name for name in request.GET.getlist("service") if name in CHECKS] or None
    services = services_status(names)
    ok = all(service["ok"] for service in services.values())
    down = [name for name, service in services.items() if not service["ok"]]
    body = {"status": "ok" if ok else "error", "down": down, "services": services}
    return JsonResponse(body, status=200 if ok else 503)
