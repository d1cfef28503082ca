"""The one check of an error answer's shape (contract §2: JSON title and description)."""
from __future__ import annotations

from webtest import TestResponse


def assert_error(response: TestResponse, status: int, title: str, description: str) -> None:
    """``response`` is the JSON error answer ``{"title", "description"}`` with ``status``."""
    assert response.status_int == status
    assert response.content_type == "application/json"
    assert response.json == {"title": title, "description": description}
