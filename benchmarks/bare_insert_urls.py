"""URLconf for benchmarks/vote_load.py only (via benchmarks/bench_settings.py): every product URL,
plus `bench/insert`, a bare Django endpoint that does one INSERT and nothing else. It is the
baseline for the vote endpoint on the same stack (gunicorn, middleware, PostgreSQL).

The table is created by the benchmark in its scratch database:
    CREATE TABLE bench_insert (id bigserial primary key, body text, created_at timestamptz default now())
"""

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from webapp.urls import handler404, handler500  # noqa: F401  (same JSON error pages)
from webapp.urls import urlpatterns as product


@csrf_exempt
def bench_insert(request):
    if request.method != "POST":
        return JsonResponse({"error": {"code": "method_not_allowed"}}, status=405)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_insert (body) VALUES (%s) RETURNING id", [request.body.decode("utf-8", "replace")]
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [*product, path("bench/insert", bench_insert, name="bench_insert")]
