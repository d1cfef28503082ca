"""Step 8 of the pipeline: write a handler's result to the response as JSON."""
from __future__ import annotations

import json
from typing import Any

import falcon
from lupin import Mapper

from .dumping import Dumper
from .messages import Response


class Renderer:
    """Serialises handler results; ``clustaar.schemas`` models may sit anywhere in them."""

    def __init__(self, mapper: Mapper) -> None:
        # Compact; ASCII output escapes what UTF-8 cannot carry (a lone surrogate from the
        # request); models are dumped as mapper.dump does (see dumping.py) where met.
        self._encode = json.JSONEncoder(ensure_ascii=True, allow_nan=False,
                                        separators=(",", ":"), default=Dumper(mapper).dump).encode

    def __call__(self, resp: Response, result: Any) -> None:
        """Send ``result`` as JSON; ``None`` keeps what the handler set, or ``204``."""
        if result is None:
            if not (resp.status_set or resp.has_body):
                resp.status = falcon.HTTP_204
            return
        resp.data = self._encode(result).encode()
        resp.text = None  # Falcon sends text before data: a body the handler set must not win.
        resp.content_type = falcon.MEDIA_JSON
