"""The health endpoint and the start-up records, on both apps; the package without extras."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from support import KEY, PASSWORD, USER
from support.requests import client

from clustaar.webhook import Webhook

pytestmark = pytest.mark.usefixtures("both_apps")

LOGGER = "clustaar.webhook"


def test_health_answers_ok_without_any_check_or_credentials() -> None:
    app = Webhook(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                  health_path="/health")
    response = client(app).get("/health", status=200)
    assert response.content_type == "application/json"
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    client(app).head("/health", status=200)


def test_health_only_answers_get() -> None:
    app = Webhook(health_path="/health")
    response = client(app).post("/health", b"{}", status=405)
    assert response.json == {"title": "Method Not Allowed",
                             "description": "This endpoint only answers GET requests."}
    assert response.headers["Allow"] == "GET, HEAD"


def test_without_health_path_there_is_no_health_endpoint() -> None:
    client(Webhook()).get("/health", status=404)


def test_a_failing_check_makes_health_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(health_path="/ready")
    reachable = [True]
    app.health.add(lambda: reachable[0])
    assert client(app).get("/ready").json == {"status": "ok"}
    reachable[0] = False
    response = client(app).get("/ready", status=503)
    assert response.json == {"status": "unavailable"}

    @app.health.add
    def raising() -> bool:
        raise OSError("store down")

    reachable[0] = True
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client(app).get("/ready", status=503)
    assert any("health check" in r.getMessage() and "raising" in r.getMessage()
               for r in caplog.records)
    with pytest.raises(TypeError):
        app.health.add("not callable")  # type: ignore[arg-type]


def test_health_is_no_notification(caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(health_path="/health")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        client(app).get("/health")
    assert not [r for r in caplog.records if r.name == "clustaar.webhook.notifications"]


@pytest.mark.parametrize("options", [{"health_path": "/"}, {"health_path": "health"},
                                     {"metrics_path": 42},
                                     {"health_path": "/x", "metrics_path": "/x"}])
def test_paths_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Webhook(**options)


def startup(caplog: pytest.LogCaptureFixture, **options: Any) -> list[tuple[str, str]]:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        Webhook(**options)
    return [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == LOGGER and getattr(r, "startup", False)]


def test_startup_lists_what_is_enabled(caplog: pytest.LogCaptureFixture) -> None:
    assert startup(caplog, private_key=[KEY, "other"], auth_username=USER,
                   auth_password=PASSWORD, deadline=2.5, health_path="/health") == [
        ("INFO", "webhook started with signature with 2 keys, Basic auth, replay window 10 s, "
                 "body limit 1048576 bytes, deadline 2.5 s, health at /health")]


def test_startup_warns_when_requests_are_not_authenticated(
        caplog: pytest.LogCaptureFixture) -> None:
    assert startup(caplog, request_max_age=None, max_body_size=None) == [
        ("INFO", "webhook started with nothing enabled"),
        ("WARNING", "no private_key is set: the signature of notifications is not checked, "
                    "so requests are not authenticated")]


def test_startup_records_hold_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    logged = repr(startup(caplog, private_key="key-marker-51", auth_username="user-marker",
                          auth_password="password-marker"))
    assert "marker" not in logged


def test_the_package_works_without_its_extras() -> None:
    # prometheus_client and opentelemetry made unimportable: no metrics, no spans.
    script = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("prometheus_client", "opentelemetry"):
                    raise ImportError(name)
        sys.meta_path.insert(0, Block())
        from clustaar.webhook import AsyncWebhook, Webhook
        for app_class in (Webhook, AsyncWebhook):
            app = app_class(request_max_age=None, health_path="/health")
            assert app.metrics is None and app.outcomes.tracing is None
        app = Webhook(request_max_age=None, health_path="/health")
        import falcon.testing
        assert falcon.testing.TestClient(app).simulate_get("/health").json == {"status": "ok"}
        try:
            Webhook(metrics_path="/metrics")
        except ImportError:
            print("metrics need the extra")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout) == (0, "metrics need the extra\n"), done.stderr
