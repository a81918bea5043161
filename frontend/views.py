from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def network_map(request):
    """The river network map: districts, reaches and water bodies; a tap shows who gets a clue there."""
    return render(request, "frontend/map.html")


def healthz(request):
    """Answer 200 when the database and Redis answer (used by the docker-compose healthcheck)."""
    from django.core.cache import cache
    from django.db import connection
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        cache.get("healthz")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"status": "error", "detail": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})
