"""A record's type-specific object in the JSON-safe form the event id is hashed from, and the topic
preferences a subscription event keeps in its details.

Both are the object as published, not as modelled: the fields SES documents with their parsed
values (times in SES's own spelling, numbers written as strings as numbers), under their published
names, only those the record sets, and the fields we do not know exactly as they came. The
unknown ones are read from the record's document, since the models keep only what they declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from tracker.models.ses.objects import SesModel
from tracker.models.ses.timestamps import format_ses_timestamp

# An unknown value nested deeper than this is not serialized (the event is invalid): the limit is
# the one the event ids were first computed under, so no record that had an id loses it.
MAX_UNKNOWN_DEPTH = 254


class TooDeepError(ValueError):
    """An unknown field nests containers past :data:`MAX_UNKNOWN_DEPTH`."""


def _names(model: type[SesModel]) -> dict[str, str]:
    """Published name → attribute name of each declared field."""
    return {field.encode_name: field.name for field in msgspec.structs.fields(model)}


_NAMES: dict[type[SesModel], dict[str, str]] = {}


def _names_of(model: type[SesModel]) -> dict[str, str]:
    names = _NAMES.get(model)
    if names is None:
        names = _NAMES[model] = _names(model)
    return names


def _check_depth(value: Any) -> Any:
    """``value`` itself, once it is known to nest at most MAX_UNKNOWN_DEPTH containers."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_UNKNOWN_DEPTH:
                raise TooDeepError("Maximum serialization depth exceeded")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def _value(value: Any, raw: Any, by_alias: bool, drop_none: bool) -> Any:
    if isinstance(value, SesModel):
        return _object(value, raw, by_alias, drop_none)
    if isinstance(value, datetime):
        return format_ses_timestamp(value)
    if isinstance(value, list):
        return [
            _value(item, raw_item, by_alias, drop_none) for item, raw_item in zip(value, raw, strict=True)
        ]
    if isinstance(value, dict):
        return {key: _value(item, raw[key], by_alias, drop_none) for key, item in value.items()}
    return value


def _object(model: SesModel, raw: Mapping[str, Any], by_alias: bool, drop_none: bool) -> dict[str, Any]:
    names = _names_of(type(model))
    dumped: dict[str, Any] = {}
    for key, raw_value in raw.items():
        name = names.get(key)
        if name is None:
            if not (drop_none and raw_value is None):
                dumped[key] = _check_depth(raw_value)
            continue
        value = getattr(model, name)
        if not (drop_none and value is None):
            dumped[key if by_alias else name] = _value(value, raw_value, by_alias, drop_none)
    return dumped


def section_json(section: SesModel, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The type-specific object as published, ``{}`` when the record has none (Send's is optional).
    Raises :class:`TooDeepError`."""
    return _object(section, raw, by_alias=True, drop_none=False) if raw is not None else {}


def preferences_json(preferences: SesModel | None, raw: Any) -> dict[str, Any] | None:
    """Topic preferences with snake_case names and no null fields (what the details keep)."""
    if preferences is None:
        return None
    return _object(preferences, raw, by_alias=False, drop_none=True)
