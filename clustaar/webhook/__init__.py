"""clustaar.webhook: build webhooks for the Clustaar chatbot platform."""
from . import events
from .asgi import AsyncWebhook
from .webhook import Webhook

__all__ = ["AsyncWebhook", "Webhook", "events"]
__version__ = "1.0.0"
