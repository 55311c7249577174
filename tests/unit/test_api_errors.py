"""The last resort under /api/ (webapp/core/middleware.py): whatever goes wrong, the answer is
the API's JSON error, never an HTML page and never an exception's text."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.unit.api_error_urls")]


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_exception_is_a_json_500_without_its_text(settings, debug):
    settings.DEBUG = debug
    response = Client(raise_request_exception=False).get("/api/v1/test-boom")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"
    assert b"secret detail" not in response.content


def test_outside_the_api_a_500_is_the_html_page():
    response = Client(raise_request_exception=False).get("/test-boom")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_an_html_error_page_under_the_api_becomes_json():
    response = Client().get("/api/v1/test-html-error")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_json_404_even_in_debug(settings, debug):
    settings.DEBUG = debug
    response = Client().get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_disallowed_host_under_the_api_is_a_json_400():
    response = Client(HTTP_HOST="evil.example").get("/api/v1/models")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
