"""JSON Schema validation with one checked validator per schema.

jsonschema.validate(instance, schema) checks the schema itself against its meta-schema on every call (30-60 ms for
docs/schema/cost.schema.json; ~90 calls per suite run). Here each distinct schema is checked once per process and its
validator kept; the instance is checked exactly as jsonschema.validate checks it (the same validator class, the same
best_match error raised).
"""
from __future__ import annotations

import json
from typing import Any

import jsonschema

_VALIDATORS: dict[str, Any] = {}


def validate(instance: Any, schema: dict) -> None:
    """jsonschema.validate(instance, schema), the schema's own check done once per distinct schema."""
    key = json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[key] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error
