"""The async example bot mounted in a FastAPI app: ``uvicorn --app-dir examples fastapi_app:api``.

The bot answers at ``/clustaar/``; the FastAPI app keeps its own routes.
"""
from __future__ import annotations

import async_bot
from fastapi import FastAPI

api = FastAPI()
api.mount("/clustaar", async_bot.app)


@api.get("/status")
def status() -> dict[str, str]:
    """One of the host application's own routes."""
    return {"app": "host"}
