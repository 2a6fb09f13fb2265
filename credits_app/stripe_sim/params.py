"""Typed reads of decoded request parameters, failing with Stripe's error messages."""

from __future__ import annotations

from typing import Any

from .errors import invalid, missing_param

Params = dict[str, Any]


def required(params: Params, name: str) -> Any:
    """Return a parameter that must be present and non-empty."""
    value = params.get(name)
    if value in (None, "", [], {}):
        raise missing_param(name)
    return value


def as_int(value: Any, param: str, minimum: int | None = None) -> int:
    """Parse an integer parameter such as `amount` or `quantity`."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def as_bool(value: Any, param: str) -> bool:
    """Parse a boolean parameter; the form encoding sends `true`/`false`."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise invalid(f"Invalid boolean: {value}", param=param)


def optional_int(params: Params, name: str, minimum: int | None = None) -> int | None:
    """Return an integer parameter or None when absent."""
    value = params.get(name)
    return None if value in (None, "") else as_int(value, name, minimum)


def as_dict(value: Any, param: str) -> dict[str, Any]:
    """Ensure a hash parameter such as `metadata` really is one."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid hash for {param}", param=param)
    return value


def merged_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Apply a metadata update the way Stripe does: merge, and an empty value unsets a key.

    Args:
        current: The object's metadata now.
        update: The `metadata` parameter; `""` clears everything.
    """
    if update == "":
        return {}
    merged = dict(current)
    for key, value in string_map(update).items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


def expand_paths(params: Params) -> list[str]:
    """The `expand[]` paths requested."""
    value = params.get("expand") or []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def string_map(value: Any, param: str = "metadata") -> dict[str, str]:
    """A hash of strings such as a new object's `metadata`."""
    mapping = as_dict(value, param)
    for key, item in mapping.items():
        if isinstance(item, dict | list):
            raise invalid(f"Invalid string: {param}[{key}] must be a string", f"{param}[{key}]")
    return {str(key): str(item) for key, item in mapping.items()}


# Parameters that are always plain strings; a hash or list there is a client bug.
SCALARS = frozenset(
    (
        *("active", "amount", "cancel_at_period_end", "cancel_url", "charge"),
        *("client_reference_id", "currency", "customer", "customer_email", "default_price"),
        *("description", "email", "ending_before", "id", "limit", "lookup_key", "mode"),
        *("name", "nickname", "payment_intent", "phone", "price", "product"),
        *("proration_behavior", "query", "reason", "return_url", "starting_after", "status"),
        *("success_url", "type", "unit_amount"),
    )
)


def check_scalars(params: Params) -> None:
    """Reject a hash or list sent where Stripe expects a string, as Stripe does (400)."""
    for name in SCALARS & params.keys():
        if isinstance(params[name], dict | list):
            raise invalid(f"Invalid string: {name} must be a string, not a hash or list", name)


def update_fields(obj: dict[str, Any], params: Params, casts: dict[str, Any]) -> dict[str, Any]:
    """Apply simple field updates and return the `previous_attributes` of what changed.

    Args:
        obj: The stored object to change in place.
        params: Request parameters.
        casts: Updatable field → function `(raw value, param name) -> new value`;
            `metadata` is always merged Stripe-style.
    """
    previous: dict[str, Any] = {}
    for name, cast in casts.items():
        if name in params:
            value = cast(params[name], name)
            if obj.get(name) != value:
                previous[name] = obj.get(name)
                obj[name] = value
    if "metadata" in params:
        metadata = merged_metadata(obj["metadata"], params["metadata"])
        if metadata != obj["metadata"]:
            previous["metadata"] = obj["metadata"]
            obj["metadata"] = metadata
    return previous


def text(value: Any, param: str) -> str | None:
    """A free-text field; an empty string clears it."""
    del param
    return None if value in (None, "") else str(value)
