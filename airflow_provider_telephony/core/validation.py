"""Strict request validation with errors that name the field and the rule."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from airflow_provider_telephony.core.errors import RequestValidationError

M = TypeVar("M", bound=BaseModel)


def build_request(model: type[M], **values: Any) -> M:
    """Validate request arguments into ``model``; raise :class:`RequestValidationError` on the first problem.

    The error names the argument by its Python name (``page_size``), states the rule in words and
    shows the rejected value, so a DAG author sees what to change without reading a traceback.
    """
    try:
        return model.model_validate(values)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(part) for part in first.get("loc", ())) or "request"
        message = str(first.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        raise RequestValidationError(loc, message, value=first.get("input")) from None
