"""reverse_one gives exactly what reverse gives, for the names stored files and ids have."""

import pytest
from django.urls import reverse, set_script_prefix

from webapp.core.urls import reverse_one


@pytest.mark.parametrize(
    ("viewname", "value"),
    [
        ("studio:media", "posters/0a1b2c3d4e5f.jpg"),
        ("studio:media", "clips/with space & odd;chars=é.mp4"),
        ("studio:prompt", "AbC-123_xyz"),
        ("gallery:compare", "AbC-123_xyz"),
    ],
)
@pytest.mark.parametrize("script_prefix", ["/", "/arena-site/"])
def test_reverse_one_matches_reverse(viewname, value, script_prefix):
    set_script_prefix(script_prefix)
    try:
        assert reverse_one(viewname, value) == reverse(viewname, args=[value])
    finally:
        set_script_prefix("/")
