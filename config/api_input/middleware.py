"""Query strings and paths with control characters are refused with 400 before any view runs."""

from __future__ import annotations

import re

from django.http import JsonResponse

# C0 controls and DEL: PostgreSQL cannot store NUL in text, and no code or search term contains them.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def control_character_in_request(request) -> str | None:  # noqa: ANN001 - a Django request
    """Return the name of the first query parameter (or "path") holding a control character, else None."""
    if CONTROL_CHARACTER.search(request.path_info):
        return "path"
    for name, values in request.GET.lists():
        if CONTROL_CHARACTER.search(name):
            return repr(name)
        if any(CONTROL_CHARACTER.search(value) for value in values):
            return name
    return None


class RefuseControlCharactersMiddleware:
    """Answer 400, naming the parameter, when the path or a query parameter holds a control character.

    One place for every endpoint (API, tiles, pages, admin): a NUL byte in `?q=` or `?level=` reached
    PostgreSQL and came back as a 500.
    """

    def __init__(self, get_response):  # noqa: ANN001
        self.get_response = get_response

    def __call__(self, request):  # noqa: ANN001, ANN204
        name = control_character_in_request(request)
        if name is not None:
            return JsonResponse(
                {
                    "detail": f"参数 {name} 含有控制字符（如 NUL） / {name} contains a control character (such as NUL)",
                    "parameter": name,
                },
                status=400,
            )
        return self.get_response(request)
