"""Check JSON from a Stripe-compatible server against the stripe SDK's typed classes and params.

The SDK (stripe-python 16) is generated from Stripe's OpenAPI spec for its pinned API version,
so its annotations are a machine-readable contract: `check_object` walks a JSON object against
the resource class for its `object` type (`stripe._object_classes.OBJECT_CLASSES`) and
`validate_request_params` walks decoded request params against the params TypedDict of the
service method that sends that request (found by reading the `*_service.py` sources).
Both report dotted paths, so a failure names the exact field.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import operator
import re
import sys
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NotRequired, Union, get_args, get_origin

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._request_options import RequestOptions
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject
from typing_extensions import is_typeddict

_UNIONS = (Union, types.UnionType)
_SCALARS: dict[type, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    bool: (bool,),
    str: (str,),
    Decimal: (str, int, float, Decimal),  # JSON carries decimals as strings
}


def sdk_class(object_name: str) -> type | None:
    """The SDK class for an `object` string such as `invoice` or `line_item`."""
    entry = OBJECT_CLASSES.get(object_name)
    return getattr(importlib.import_module(entry[0]), entry[1]) if entry else None


@functools.cache
def _hidden_imports(module_name: str) -> dict[str, Any]:
    """Names a generated module imports only under `if TYPE_CHECKING:` (its forward refs)."""
    module = sys.modules[module_name]
    names: dict[str, Any] = {}
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    imported = importlib.import_module(stmt.module)
                    for alias in stmt.names:
                        names[alias.asname or alias.name] = getattr(imported, alias.name)
    return names


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """Field name → annotation of an SDK class or params TypedDict, forward refs resolved.

    Params TypedDicts inherit `RequestOptions` (api_key, stripe_version, ...); those are
    sent as headers, never as params, so they are left out.
    """
    # Annotations inherited from a base class are evaluated in this namespace too.
    bases = [RequestOptions] if is_typeddict(cls) else list(reversed(cls.__mro__))
    namespace: dict[str, Any] = {}
    for owner in (b for b in [*bases, cls] if b.__module__.startswith("stripe")):
        namespace.update(vars(sys.modules[owner.__module__]))
        namespace.update(_hidden_imports(owner.__module__))
    found = typing.get_type_hints(cls, globalns=namespace, include_extras=True)
    options = RequestOptions.__annotations__ if is_typeddict(cls) else {}
    return {
        k: v for k, v in found.items() if not k.startswith("_") and k.islower() and k not in options
    }


def _optional(annotation: Any) -> tuple[bool, Any]:
    """(None allowed, the annotation without None / NotRequired)."""
    if get_origin(annotation) is NotRequired:
        return True, _optional(get_args(annotation)[0])[1]
    if get_origin(annotation) in _UNIONS and type(None) in get_args(annotation):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return True, functools.reduce(operator.or_, rest)
    return False, annotation


def check_object(obj: Any, cls: type | None = None, path: str = "") -> list[str]:
    """Compare a JSON object with the SDK class for its `object` (or with `cls`).

    Returns:
        Problems such as `invoice.lines.data[0].foo: not in the SDK` or
        `charge.refunded: missing`; empty when the object matches.
    """
    if cls is None and isinstance(obj, dict):
        cls = sdk_class(obj.get("object", ""))
    if cls is None or not isinstance(obj, dict):
        return [f"{path or '?'}: unknown object type {obj.get('object')!r}"]
    path = path or str(obj.get("object"))
    return _check_fields(obj, cls, path)


def _check_fields(obj: dict[str, Any], cls: type, path: str) -> list[str]:
    fields = hints(cls)
    problems = [f"{path}.{key}: not in the SDK" for key in obj if key not in fields]
    for name, annotation in fields.items():
        if name in obj:
            problems += _check_value(obj[name], annotation, f"{path}.{name}")
        elif not _optional(annotation)[0] and name != "deleted":
            problems.append(f"{path}.{name}: missing")
    return problems


def _check_value(value: Any, annotation: Any, path: str) -> list[str]:
    nullable, annotation = _optional(annotation)
    if value is None:
        return [] if nullable else [f"{path}: null but not Optional"]
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return []
    if origin in _UNIONS:
        attempts = [_check_value(value, arm, path) for arm in args]
        return [] if any(not a for a in attempts) else min(attempts, key=len)
    if origin is Literal:
        return [] if value in args else [f"{path}: {value!r} not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [
            p for i, item in enumerate(value) for p in _check_value(item, args[0], f"{path}[{i}]")
        ]
    if origin is dict:
        return [] if isinstance(value, dict) else [f"{path}: expected an object"]
    return _check_class(value, origin or annotation, args, path)


def _check_class(value: Any, cls: Any, args: tuple[Any, ...], path: str) -> list[str]:
    if cls in _SCALARS:
        ok = isinstance(value, _SCALARS[cls]) and not (cls is not bool and value is True)
        return [] if ok else [f"{path}: {value!r} is not {cls.__name__}"]
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {value!r}"]
    if inspect.isclass(cls) and issubclass(cls, ListObject | SearchResultObject):
        problems = [f"{path}.{k}: not in the SDK" for k in value if k not in _LIST_KEYS]
        return problems + _check_value(value.get("data"), list[args[0]], f"{path}.data")
    if cls is UntypedStripeObject or not (inspect.isclass(cls) and issubclass(cls, StripeObject)):
        return []
    kind = value.get("object")
    named = sdk_class(kind) if isinstance(kind, str) else None
    return _check_fields(value, named if named and issubclass(named, cls) else cls, path)


_LIST_KEYS = {"object", "data", "has_more", "url", "total_count", "next_page"}


# ---- older API versions -----------------------------------------------------------------

# What versions before 2025-03-31 ("basil") carry that today's SDK classes no longer know
# (changelog 2025-03-31.basil; `refunds` on charges before 2022-11-15).
LEGACY_FIELDS: dict[str, set[str]] = {
    "invoice": {"subscription", "subscription_details", "payment_intent", "charge", "paid"}
    | {"paid_out_of_band", "quote"},
    "line_item": {"type", "price", "plan", "proration", "proration_details", "subscription"}
    | {"subscription_item", "invoice_item", "amount_excluding_tax", "tax_amounts", "tax_rates"}
    | {"unit_amount_excluding_tax"},
    "invoiceitem": {"price", "plan", "subscription", "subscription_item", "unit_amount"}
    | {"unit_amount_decimal"},
    "subscription": {"current_period_start", "current_period_end"},
    "charge": {"invoice"},
    "payment_intent": {"invoice"},
}
# Known in still older versions (before 2022-11-15), never required.
OLDER_FIELDS: dict[str, set[str]] = {"payment_intent": {"charges"}}
BASIL_ONLY = {"parent", "pricing", "payments"}


def check_legacy_object(obj: Any, path: str = "") -> list[str]:
    """Check an object rendered for a pre-basil version (the SDK classes are current only).

    Each object of a type in `LEGACY_FIELDS` must carry those fields, none may carry a
    basil-only field (`parent`, `pricing`, `payments`), and every other field must be one
    today's SDK knows. Nested objects are checked too.
    """
    problems: list[str] = []
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            problems += check_legacy_object(item, f"{path}[{i}]")
        return problems
    if not isinstance(obj, dict):
        return problems
    kind = obj.get("object")
    cls = sdk_class(kind) if isinstance(kind, str) else None
    path = path or str(kind)
    if cls is not None and kind != "list":
        legacy = LEGACY_FIELDS.get(kind, set())
        known = set(hints(cls)) | legacy | OLDER_FIELDS.get(kind, set())
        problems += [f"{path}.{k}: basil-only field" for k in BASIL_ONLY & obj.keys()]
        problems += [f"{path}.{k}: missing legacy field" for k in sorted(legacy - obj.keys())]
        extra = obj.keys() - known - BASIL_ONLY
        problems += [f"{path}.{k}: unknown in any version" for k in sorted(extra)]
    for key, value in obj.items():
        if key not in ("price", "plan"):  # full catalogue objects, current in every version
            problems += check_legacy_object(value, f"{path}.{key}")
    return problems


# ---- request params -------------------------------------------------------------------


@functools.cache
def _routes() -> list[tuple[str, re.Pattern[str], type]]:
    """(method, path pattern, params TypedDict) for every v1 service method of the SDK."""
    root = Path(stripe.__file__).parent
    routes = []
    for file in sorted(root.rglob("_*_service.py")):
        module = ".".join(file.relative_to(root.parent).with_suffix("").parts)
        tree = ast.parse(file.read_text())
        for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            route = _route_of(func)
            if route and route[1].startswith("/v1/"):
                importlib.import_module(module)
                params_cls = _hidden_imports(module).get(route[2])
                if params_cls is not None:
                    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(route[1]))
                    routes.append((route[0].upper(), re.compile(f"{pattern}$"), params_cls))
    # Literal path segments win over placeholders (`/v1/customers/search` vs `{customer}`).
    return sorted(routes, key=lambda r: r[1].pattern.count("[^/]+"))


def _route_of(func: ast.FunctionDef) -> tuple[str, str, str] | None:
    params = next((a for a in func.args.args if a.arg == "params"), None)
    nodes = ast.walk(params.annotation) if params and params.annotation else []
    names = [n.value for n in nodes if isinstance(n, ast.Constant)]
    name = next((n for n in names if isinstance(n, str)), None)
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
        if getattr(call.func, "attr", "") == "_request" and len(call.args) >= 2:
            method, target = call.args[0], call.args[1]
            if isinstance(target, ast.Call):  # "/v1/x/{id}".format(...)
                target = target.func.value  # type: ignore[attr-defined]
            if name and isinstance(method, ast.Constant) and isinstance(target, ast.Constant):
                return method.value, target.value, name
    return None


def params_class(method: str, path: str) -> type | None:
    """The SDK params TypedDict for a request such as `POST /v1/subscriptions/sub_123`."""
    for verb, pattern, cls in _routes():
        if verb == method.upper() and pattern.match(path):
            return cls
    return None


def validate_request_params(method: str, path: str, params: dict[str, Any]) -> list[str]:
    """Check decoded form params of a request against the SDK's typed params.

    Returns:
        Problems such as `subscription_data.bogus: not a param of SessionCreateParams...`;
        an unknown endpoint is a problem too.
    """
    cls = params_class(method, path)
    if cls is None:
        return [f"{method} {path}: no SDK method sends this request"]
    return _check_params(params, cls, "")


def _check_params(params: dict[str, Any], cls: type, path: str) -> list[str]:
    fields = hints(cls)
    problems = []
    for key, value in params.items():
        where = f"{path}.{key}" if path else key
        if key not in fields:
            problems.append(f"{where}: not a param of {cls.__name__}")
        else:
            problems += _check_param(value, fields[key], where)
    return problems


def _check_param(value: Any, annotation: Any, path: str) -> list[str]:
    annotation = _optional(annotation)[1]
    arms = get_args(annotation) if get_origin(annotation) in _UNIONS else (annotation,)
    for arm in arms:
        origin = get_origin(arm)
        if isinstance(value, dict) and is_typeddict(arm):
            return _check_params(value, arm, path)
        if isinstance(value, list) and origin is list:
            inner = get_args(arm)[0]
            return [p for i, v in enumerate(value) for p in _check_param(v, inner, f"{path}[{i}]")]
        if isinstance(value, dict) and (origin is dict or arm is UntypedStripeObject):
            return []
        if isinstance(value, str) and origin is Literal and value in get_args(arm):
            return []
        scalar = origin is None and not is_typeddict(arm) and arm not in (dict, list)
        if isinstance(value, str) and scalar:
            return []
    return [f"{path}: {value!r} does not fit {annotation}"]
