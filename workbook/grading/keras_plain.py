"""A Keras model as plain data: the subject's half of `keras_wire`.

`to_plain(model)` runs in the subject, the process that runs learner code. It reads
the model through its own methods (Keras itself is only taken from `sys.modules`,
never imported here) and returns str / int / float / bool / None, lists, dicts with
str keys and numeric NumPy arrays: nothing the judge would have to unpickle or trust.
The format is described in `keras_wire`, the judge's half, which validates it.

Kept apart from the judge's half on purpose: the subject imports this module, and
nothing of the judge (its NumPy interpreter of Keras layers included) may ever sit
in the memory of the process that runs learner code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

FORMAT = "workbook.keras-model"
VERSION = 1
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
    return {"class_name": type(optimizer).__name__, "learning_rate": rate}


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
        "input_shapes": _attempt(lambda: _shapes(model.inputs)),
        "output_shapes": _attempt(lambda: _shapes(model.outputs)),
        "layers": [_layer_to_plain(layer) for layer in model.layers],
    }
