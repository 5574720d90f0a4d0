"""The one base of every pgx value and document.

Unknown keys are refused (a misspelt field in a YAML file or a JSON document is an error, not
silently dropped) and instances are immutable (a result handed from one stage to the next
cannot be changed behind the first stage's back; ``model_copy(update=...)`` makes a new one).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
