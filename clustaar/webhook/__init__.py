"""clustaar.webhook: build webhooks for the Clustaar chatbot platform."""
from . import events
from .webhook import Webhook

__all__ = ["Webhook", "events"]
__version__ = "1.0.0"
