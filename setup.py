"""Packaging for clustaar.webhook."""
from setuptools import find_namespace_packages, setup

#: The test kit needs nothing beyond the package (TestClient runs on falcon.testing); the
#: extra stays so that requirements naming "clustaar.webhook[testing]" still install.
TESTING_REQUIRES: list[str] = []

#: A production server: pip install "clustaar.webhook[server]" (what ``make run`` installs).
SERVER_REQUIRES = ["gunicorn>=22"]

#: uWSGI as a binary wheel (pyuwsgi installs the same ``uwsgi`` command, nothing to compile).
UWSGI_REQUIRES = ["pyuwsgi>=2.0.22"]

#: Serving AsyncWebhook: uvicorn, and its worker class for gunicorn.
ASGI_REQUIRES = ["uvicorn>=0.30", "uvicorn-worker>=0.2"]

#: A deliveries store shared by many hosts: deliveries="redis://HOST:PORT/DB".
REDIS_REQUIRES = ["redis>=5.0.1"]  # redis.asyncio clients have aclose() from 5.0.1.
#: Prometheus metrics (clustaar.webhook.metrics, ``metrics_path=``).
METRICS_REQUIRES = ["prometheus_client>=0.16"]

#: OpenTelemetry spans (clustaar.webhook.tracing): the API only, as a library should.
OTEL_REQUIRES = ["opentelemetry-api>=1.20"]

#: This repository's own checks: lint, the suite (real servers, mounting in Flask and
#: Django), the type check.
TEST_REQUIRES = TESTING_REQUIRES + SERVER_REQUIRES + UWSGI_REQUIRES + ASGI_REQUIRES + \
    REDIS_REQUIRES + [
    "webtest>=3",
    "pytest>=7",
    "hypothesis>=6",
    "mypy>=1.5",
    "ruff>=0.6",
    "flask>=2.2",
    "django>=4.2",
    "fastapi>=0.110",
    "prometheus_client>=0.16",
    "opentelemetry-api>=1.20",
    "opentelemetry-sdk>=1.20",
]

setup(
    name="clustaar.webhook",
    version="1.0.0",
    description="Micro-framework for building Clustaar chatbot webhooks",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_namespace_packages(include=["clustaar.*"]),
    package_data={"clustaar.webhook": ["py.typed"]},
    include_package_data=True,
    zip_safe=False,
    install_requires=[
        "clustaar.schemas==1.10.0",
        # Its internals are read (see clustaar/webhook/introspect.py): pinned, checked at import.
        "lupin==2.0.0",
        "falcon>=4,<5",
        # JSON decoding and encoding, twice to ten times the stdlib's speed (see README).
        "msgspec>=0.19,<1",
        "setuptools>=75.8.2,<81",
    ],
    extras_require={
        "testing": TESTING_REQUIRES,
        "server": SERVER_REQUIRES,
        "uwsgi": UWSGI_REQUIRES,
        "asgi": ASGI_REQUIRES,
        "redis": REDIS_REQUIRES,
        "metrics": METRICS_REQUIRES,
        "otel": OTEL_REQUIRES,
        "test": TEST_REQUIRES,
    },
    entry_points={"console_scripts": ["clustaar-webhook=clustaar.webhook.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Framework :: Falcon",
        "Typing :: Typed",
    ],
)
