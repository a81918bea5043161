"""What the API accepts from a request before any view sees it: bodies, query strings, ids, field types.

- `parsers`: JSON bodies, refused with 400 when nested too deep or too large (never a RecursionError).
- `middleware`: query strings and paths with control characters (NUL…) refused with 400, for every URL.
- `pagination`: `?limit=` clamped to API_MAX_PAGE_SIZE, `?offset=` that cannot overflow the database.
- `routers`: numeric ids in every router URL, so `/suggestions/abc/reply/` is 404, not 500.
- `serializers`: DRF's serializers module with strict input types; the project's serializers use it.
"""
