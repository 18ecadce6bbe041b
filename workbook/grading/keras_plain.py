"""A Keras model as plain data: the subject's half of `keras_model`.

`to_plain(model)` runs in the subject, the process that runs learner code. It reads
the model through its own methods (Keras itself is only taken from `sys.modules`,
never imported here) and returns str / int / float / bool / None, lists, dicts with
str keys and numeric NumPy arrays: nothing the judge would have to unpickle or trust.
The format is described in `keras_model`, the judge's half, which validates it.

Kept apart from the judge's half on purpose: the subject imports this module, and
nothing of the judge (its NumPy interpreter of Keras layers included) may ever sit
in the memory of the process that runs learner code.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

FORMAT = "workbook.keras-model"
VERSION = 2
WRAPPED_ROLES = ("forward_layer", "backward_layer", "layer")
MAX_DEPTH = 4  # wrappers inside wrappers: deeper than this is not a model we built


def _json_default(value: Any) -> Any:
    """What json cannot encode by itself in a Keras config: NumPy values, objects."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    get_config = getattr(value, "get_config", None)
    if callable(get_config):
        return {"class_name": type(value).__name__, "config": get_config()}
    return {"class_name": type(value).__name__, "repr": repr(value)[:200]}


def _to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, allow_nan=True)


def _shapes(tensors: Any) -> list[list[int | None]]:
    """Shapes of one tensor or a list of them, as lists of int or None."""
    if not isinstance(tensors, list | tuple):
        tensors = [tensors]
    return [[None if d is None else int(d) for d in t.shape] for t in tensors]


def _attempt(read: Callable[[], Any]) -> Any:
    """A model property that may not exist (unbuilt model, layer never called): None."""
    try:
        return read()
    except Exception:  # Keras raises AttributeError, ValueError… depending on the case
        return None


def _children(layer: Any) -> dict[str, Any]:
    """Layers a wrapper holds: Bidirectional's two directions, TimeDistributed's layer."""
    found = {}
    for role in WRAPPED_ROLES:
        child = getattr(layer, role, None)
        if child is not None and callable(getattr(child, "get_weights", None)):
            found[role] = child
    if "forward_layer" in found:
        found.pop("layer", None)  # Bidirectional keeps its template as .layer too
    return found


def _weight_path(variable: Any) -> str:
    return str(getattr(variable, "path", None) or getattr(variable, "name", ""))


# Methods whose defining module tells Keras's own class from a learner's subclass (or a
# method patched onto a Keras class), and the callables a layer's config names.
METHODS = ("__init__", "build", "call", "get_config", "compute_output_shape")
CALLABLES = ("activation", "recurrent_activation")


def _origin(value: Any) -> dict[str, str | None]:
    """Where a function, class or object comes from: module and qualified name, as data
    the judge weighs (it decides what is Keras's own, never this process). An object
    that is neither a function nor a class is described by its class."""
    plain_function = isinstance(value, types.FunctionType | types.BuiltinFunctionType)
    kind = value if plain_function or isinstance(value, type) else type(value)
    module = getattr(kind, "__module__", None)
    qualname = getattr(kind, "__qualname__", None)
    return {
        "module": _text(module),
        "qualname": _text(qualname),
        "name": _text(getattr(kind, "__name__", None)),
        # Whether that module really holds this very object under that name: a class
        # or function that only claims a Keras module and name does not.
        "resolves": _attempt(lambda: _found_at(module, qualname) is kind) is True,
    }


def _found_at(module: Any, qualname: Any) -> Any:
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


def _text(value: Any) -> str | None:
    return value[:300] if isinstance(value, str) else None


def _methods(layer: Any) -> dict[str, str | None]:
    kind = type(layer)
    return {
        name: _text(_attempt(lambda n=name: getattr(getattr(kind, n, None), "__module__", None)))
        for name in METHODS
    }


def _callables(layer: Any) -> dict[str, Any]:
    """The activation functions a layer holds (an RNN layer's live in its cell)."""
    found = {}
    holders = (layer, getattr(layer, "cell", None))
    for attribute in CALLABLES:
        for holder in holders:
            value = _attempt(lambda h=holder, a=attribute: getattr(h, a, None))
            if callable(value):
                found[attribute] = _origin(value)
                break
    return found


def _layer_to_plain(layer: Any, depth: int = 0) -> dict[str, Any]:
    children = _children(layer) if depth < MAX_DEPTH else {}
    wrapped = {role: _layer_to_plain(child, depth + 1) for role, child in children.items()}
    held = {_weight_path(v) for child in children.values() for v in child.weights}
    weights = [
        {
            "path": _weight_path(variable),
            "name": _weight_path(variable).rsplit("/", 1)[-1],
            "value": np.asarray(value),
        }
        for variable, value in zip(layer.weights, layer.get_weights(), strict=True)
        if _weight_path(variable) not in held
    ]
    config = _attempt(layer.get_config)
    return {
        "class_name": type(layer).__name__,
        "name": str(layer.name),
        "config_json": _to_json(config if isinstance(config, dict) else {}),
        "output_shapes": _attempt(lambda: _shapes(layer.output)),
        "weights": weights,
        "wrapped": wrapped,
        "origin": _origin(type(layer)),
        "methods": _methods(layer),
        "callables": _callables(layer),
    }


def _model_config_json(model: Any) -> str | None:
    keras = sys.modules.get("keras")
    serialize = getattr(getattr(keras, "saving", None), "serialize_keras_object", None)
    if serialize is not None:
        found = _attempt(lambda: _to_json(serialize(model)))
        if found is not None:
            return found
    config = _attempt(model.get_config)
    return (
        None if config is None else _to_json({"class_name": type(model).__name__, "config": config})
    )


def _optimizer(model: Any) -> dict[str, Any] | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    rate = _attempt(lambda: float(np.asarray(optimizer.learning_rate)))
    return {
        "class_name": type(optimizer).__name__,
        "learning_rate": rate,
        "origin": _origin(type(optimizer)),
    }


def _losses(model: Any) -> list[dict[str, Any]] | None:
    """Each loss the model was compiled with (one per output when there are several):
    a name Keras looks up ({"name": "mse"}) or where the function or object comes from."""
    if not getattr(model, "compiled", False):
        return None
    found: list[dict[str, Any]] = []

    def walk(value: Any, depth: int = 0) -> None:
        if len(found) >= 100 or depth > MAX_DEPTH or value is None:
            return
        if isinstance(value, str):
            found.append({"name": value[:300]})
        elif isinstance(value, dict):
            for item in list(value.values()):
                walk(item, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, depth + 1)
        else:
            found.append({"origin": _origin(value)})

    walk(_attempt(lambda: model.loss))
    return found


def to_plain(model: Any) -> dict[str, Any]:
    """A Keras model as plain data (see the module docstring for the format).

    Runs in the subject process. Only the model's own methods are used, so importing
    this module never imports Keras; a model that is not built yet (no input shape)
    still converts, with no weights and no shapes."""
    built = bool(getattr(model, "built", False))
    compile_config = _attempt(model.get_compile_config) if built else None
    return {
        "format": FORMAT,
        "version": VERSION,
        "class_name": type(model).__name__,
        "name": str(getattr(model, "name", "")),
        "config_json": _model_config_json(model),
        "built": built,
        "compiled": bool(getattr(model, "compiled", False)),
        "compile_config_json": _to_json(compile_config) if compile_config else None,
        "optimizer": _optimizer(model),
        "losses": _losses(model),
        "input_shapes": _attempt(lambda: _shapes(model.inputs)),
        "output_shapes": _attempt(lambda: _shapes(model.outputs)),
        "layers": [_layer_to_plain(layer) for layer in model.layers],
    }
