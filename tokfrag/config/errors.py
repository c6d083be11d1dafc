"""How a configuration error reads: the file, then one line per problem naming the key; an
unknown key also names its section and the keys that section allows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


class ParamsError(ValueError):
    """`params.yaml` is missing, unreadable or does not match the schema."""


def describe(error: ValidationError, source: str, root: type[BaseModel]) -> str:
    """The message of :class:`ParamsError` for ``error``, raised validating ``root`` (the
    whole :class:`~tokfrag.config.Params`) from ``source`` (the file, or the overrides)."""
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            section_path = item["loc"][:-1]
            model: Any = root
            for part in section_path:
                model = model.model_fields[str(part)].annotation
                # An optional section (``SourceConfig | None``): its model is the one member.
                model = next(
                    (m for m in getattr(model, "__args__", ()) if m is not type(None)), model
                )
            allowed = ", ".join(model.model_fields)
            section = ".".join(str(p) for p in section_path) or "top level"
            lines.append(
                f"  unknown key {item['loc'][-1]!r} in section {section!r}; "
                f"allowed keys: {allowed}. Fix the spelling or remove it."
            )
        else:
            message = item["msg"].removeprefix("Value error, ")
            given = item.get("input")
            # A whole section as "input" says nothing the message does not.
            got = "" if isinstance(given, dict) else f" (got {given!r})"
            lines.append(f"  {where + ': ' if where else ''}{message}{got}")
    return "\n".join(lines)
