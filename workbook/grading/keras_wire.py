"""A Keras model as plain data, and the judge's NumPy-only view of it.

Grading runs in two processes: the *subject* imports the learner's file (and Keras),
the *judge* runs the hidden checks and never imports TensorFlow (a second import
costs seconds and hundreds of MiB). A model a learner's function returns crosses
between them as plain data:

* `to_plain(model)` runs in the subject and lives in `keras_plain`, the only half
  the subject imports: it returns str / int / float / bool / None, lists, dicts
  with str keys and numeric NumPy arrays, nothing the judge would have to unpickle
  or trust.
* `SavedModel(plain)` runs in the judge. It validates every field (malformed data is
  a `ModelDataError`, a ValueError with a sentence a check can show), and offers what
  the checks ask of a model: its layers with their settings and weights, parameter
  counts, shapes, optimizer, loss, and `predict` — a NumPy forward pass with Keras's
  semantics for the layers the course uses (and the usual learner variants).

`keras_lstm`, `keras_gru` and `keras_simple_rnn` are those semantics as plain
functions, for checks that hold weights rather than a model (lessons 12 and 19).

Plain format, version 1 (`FORMAT`, `VERSION`)::

    {"format": "workbook.keras-model", "version": 1,
     "class_name": str,              # "Sequential", "Functional", …
     "name": str,
     "config_json": str | None,      # keras.saving.serialize_keras_object(model), JSON
     "built": bool, "compiled": bool,
     "compile_config_json": str | None,   # model.get_compile_config() (loss, metrics…)
     "optimizer": None | {"class_name": str, "learning_rate": float | None},
     "input_shapes": None | [[int | None, …], …],
     "output_shapes": None | [[int | None, …], …],
     "layers": [LAYER, …]}           # model.layers, in order
    LAYER = {"class_name": str, "name": str,
             "config_json": str,     # layer.get_config(), JSON
             "output_shapes": None | [[int | None, …], …],
             "weights": [{"path": str, "name": str, "value": ndarray}, …],
             "wrapped": {role: LAYER}}   # Bidirectional: forward_layer, backward_layer;
                                         # other wrappers: layer. Weights live there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from workbook.grading.keras_plain import FORMAT, MAX_DEPTH, VERSION, WRAPPED_ROLES, to_plain

__all__ = ["FORMAT", "VERSION", "SavedModel", "to_plain"]

MAX_LAYERS = 1000


class ModelDataError(ValueError):
    """The plain data does not describe a model (missing field, wrong type or shape)."""


class UnsupportedModel(ValueError):
    """A well-formed model that the NumPy forward pass cannot run (names what and why)."""


# ------------------------------------------------------------- judge: validation


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ModelDataError(f"malformed model data: {message}")


def _field(data: Any, key: str, kinds: type | tuple[type, ...], where: str) -> Any:
    _need(isinstance(data, dict), f"{where} should be a dict, not {type(data).__name__}")
    _need(key in data, f"{where} has no {key!r}")
    value = data[key]
    fits = isinstance(value, kinds)
    if isinstance(value, bool) and bool not in _tuple(kinds):
        fits = False  # True is an int to isinstance, never to a model
    _need(fits, f"{where}[{key!r}] should be {_kinds(kinds)}, not {type(value).__name__}")
    return value


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kinds(kinds: type | tuple[type, ...]) -> str:
    return " or ".join("None" if k is type(None) else k.__name__ for k in _tuple(kinds))


def _json_field(data: dict, key: str, where: str, *, optional: bool = False) -> Any:
    text = _field(data, key, (str, type(None)) if optional else str, where)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ModelDataError(
            f"malformed model data: {where}[{key!r}] is not JSON ({exc})"
        ) from None


def _shape_list(value: Any, where: str) -> list[tuple[int | None, ...]] | None:
    if value is None:
        return None
    _need(isinstance(value, list), f"{where} should be a list of shapes")
    shapes = []
    for shape in value:
        _need(isinstance(shape, list), f"{where} should hold shapes (lists)")
        for dim in shape:
            _need(
                dim is None or (type(dim) is int and dim >= 0),
                f"{where} has a dimension {dim!r}: dimensions are whole numbers or None",
            )
        shapes.append(tuple(shape))
    return shapes


def _weight(entry: Any, where: str) -> tuple[str, str, np.ndarray]:
    path = _field(entry, "path", str, where)
    name = _field(entry, "name", str, where)
    value = _field(entry, "value", np.ndarray, f"{where} ({path})")
    _need(
        value.dtype.kind in "biuf",
        f"weight {path} should hold real numbers, but its dtype is {value.dtype}",
    )
    return path, name, np.array(value, dtype=float)


# Weights each layer type must carry: name → shape, in terms of units u, input width
# n (read off the kernel) and, for GRU, its bias layout. Checked when the data arrives,
# so predict() never meets a missing or misshapen weight.
def _expected_weights(layer: SavedLayer) -> dict[str, tuple[int, ...]] | None:
    cls, u = layer.class_name, layer.units
    if (cls not in _GATES and cls != "Dense") or not layer.weight_list:
        return None  # a layer of an unbuilt model has no weights yet: nothing to check
    _need(type(u) is int and u > 0, f"layer {layer.name} ({cls}) has units={u!r}")
    kernel = layer.weights.get("kernel")
    _need(kernel is not None, f"layer {layer.name} ({cls}) has no kernel weight")
    _need(kernel.ndim == 2, f"layer {layer.name}'s kernel should be 2-D, not {kernel.shape}")
    n = kernel.shape[0]
    use_bias = bool(layer.config.get("use_bias", True))
    if cls == "Dense":
        return {"kernel": (n, u), **({"bias": (u,)} if use_bias else {})}
    width = _GATES[cls] * u
    bias: tuple[int, ...] = (width,)
    if cls == "GRU" and layer.config.get("reset_after", True):
        bias = (2, width)
    shapes = {"kernel": (n, width), "recurrent_kernel": (u, width)}
    return {**shapes, **({"bias": bias} if use_bias else {})}


def _check_weights(layer: SavedLayer) -> None:
    expected = _expected_weights(layer)
    if expected is None:
        return
    for name, shape in expected.items():
        _need(name in layer.weights, f"layer {layer.name} ({layer.class_name}) has no {name}")
        got = layer.weights[name].shape
        _need(
            got == shape,
            f"layer {layer.name} ({layer.class_name}, {layer.units} units): {name} has "
            f"shape {got}, expected {shape}",
        )


# ------------------------------------------------------------------ judge: model


class SavedLayer:
    """One layer as the judge sees it: class, settings (its config), weights by name.

    Attribute names follow Keras where the checks used Keras's (`units`,
    `return_sequences`, `forward_layer`, `count_params()`), so the checks read alike."""

    def __init__(self, data: Any, where: str = "layer", depth: int = 0) -> None:
        _need(depth <= MAX_DEPTH, f"{where} nests wrappers more than {MAX_DEPTH} deep")
        self.class_name: str = _field(data, "class_name", str, where)
        self.name: str = _field(data, "name", str, where)
        where = f"layer {self.name!r}"
        config = _json_field(data, "config_json", where)
        _need(isinstance(config, dict), f"{where}'s config should be a JSON object")
        self.config: dict[str, Any] = config
        self.output_shapes = _shape_list(data.get("output_shapes"), f"{where}'s output_shapes")
        entries = _field(data, "weights", list, where)
        self.weight_list = [_weight(e, f"{where}'s weight") for e in entries]
        self.weights: dict[str, np.ndarray] = {}
        for path, name, value in self.weight_list:
            _need(name not in self.weights, f"{where} has two weights named {name!r} ({path})")
            self.weights[name] = value
        wrapped = _field(data, "wrapped", dict, where)
        _need(set(wrapped) <= set(WRAPPED_ROLES), f"{where} wraps unknown roles {set(wrapped)}")
        self.wrapped = {
            role: SavedLayer(child, f"{where}'s {role}", depth + 1)
            for role, child in wrapped.items()
        }
        _check_weights(self)

    def __repr__(self) -> str:
        return f"<SavedLayer {self.describe()} name={self.name!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        """A config entry (e.g. `dropout`, `merge_mode`), or `default`."""
        return self.config.get(key, default)

    @property
    def forward_layer(self) -> SavedLayer | None:
        return self.wrapped.get("forward_layer")

    @property
    def backward_layer(self) -> SavedLayer | None:
        return self.wrapped.get("backward_layer")

    @property
    def inner(self) -> SavedLayer | None:
        """The layer a wrapper holds (Bidirectional: its forward direction)."""
        return self.forward_layer or self.wrapped.get("layer")

    @property
    def kind(self) -> str:
        """The class name; a wrapper reads as `Bidirectional(LSTM)`."""
        inner = self.inner
        return f"{self.class_name}({inner.class_name})" if inner else self.class_name

    @property
    def units(self) -> int | None:
        units = self.config.get("units")
        return units if type(units) is int else None

    @property
    def activation(self) -> str | None:
        """The activation's name as Keras saved it ("linear" when none was given)."""
        return _name_of(self.config.get("activation"))

    @property
    def return_sequences(self) -> bool:
        inner = self.inner
        if inner is not None:
            return inner.return_sequences
        return bool(self.config.get("return_sequences", False))

    @property
    def dropout(self) -> float:
        return float(self.config.get("dropout", 0.0) or 0.0)

    @property
    def recurrent_dropout(self) -> float:
        return float(self.config.get("recurrent_dropout", 0.0) or 0.0)

    @property
    def merge_mode(self) -> str | None:
        return self.config.get("merge_mode")

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return self.output_shapes[0] if self.output_shapes else None

    def count_params(self) -> int:
        """Every weight, trainable or not, as Keras's count_params counts them."""
        own = sum(int(w.size) for _, _, w in self.weight_list)
        return own + sum(child.count_params() for child in self.wrapped.values())

    def describe(self) -> str:
        """`LSTM(10)`, `Dense(1)`, `Bidirectional(LSTM)`."""
        return f"{self.kind}({self.units})" if self.units is not None else self.kind


class SavedModel:
    """A Keras model received as plain data: structure, settings, weights, and a NumPy
    forward pass. Built in the judge from `to_plain`'s output, which it never trusts."""

    def __init__(self, plain: Any) -> None:
        where = "the model"
        _need(isinstance(plain, dict), f"expected a dict, got {type(plain).__name__}")
        fmt = plain.get("format")
        _need(fmt == FORMAT, f"format {fmt!r} is not {FORMAT!r}")
        version = plain.get("version")
        _need(version == VERSION, f"version {version!r}; this judge reads version {VERSION}")
        self.class_name: str = _field(plain, "class_name", str, where)
        self.name: str = _field(plain, "name", str, where)
        self.config = _json_field(plain, "config_json", where, optional=True)
        self.built: bool = _field(plain, "built", bool, where)
        self.compiled: bool = _field(plain, "compiled", bool, where)
        self.compile_config = _json_field(plain, "compile_config_json", where, optional=True)
        _need(
            self.compile_config is None or isinstance(self.compile_config, dict),
            "the compile config should be a JSON object",
        )
        optimizer = _field(plain, "optimizer", (dict, type(None)), where)
        self.optimizer: str | None = None
        self.learning_rate: float | None = None
        if optimizer is not None:
            self.optimizer = _field(optimizer, "class_name", str, "the optimizer")
            rate = _field(optimizer, "learning_rate", (int, float, type(None)), "the optimizer")
            self.learning_rate = None if rate is None else float(rate)
        self.input_shapes = _shape_list(plain.get("input_shapes"), "the model's input_shapes")
        self.output_shapes = _shape_list(plain.get("output_shapes"), "the model's output_shapes")
        entries = _field(plain, "layers", list, where)
        _need(len(entries) <= MAX_LAYERS, f"{len(entries)} layers is more than {MAX_LAYERS}")
        self.all_layers = [SavedLayer(entry, f"layer {i}") for i, entry in enumerate(entries)]
        # Keras's Sequential.layers leaves the InputLayer out, a functional model's
        # keeps it; the checks want the same list from both.
        self.layers = [layer for layer in self.all_layers if layer.class_name != "InputLayer"]

    def __repr__(self) -> str:
        return f"<SavedModel {self.class_name} {self.describe()}>"

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        return self.input_shapes[0] if self.input_shapes else None

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return self.output_shapes[0] if self.output_shapes else None

    @property
    def loss(self) -> str | None:
        """The loss as the compile config names it: "mse", "mean_squared_error",
        "MeanSquaredError" (a loss object), a function's name; None when not compiled."""
        loss = (self.compile_config or {}).get("loss")
        if isinstance(loss, list) and len(loss) == 1:
            loss = loss[0]
        if isinstance(loss, dict) and "class_name" not in loss and len(loss) == 1:
            loss = next(iter(loss.values()))  # {"output_name": loss}
        return _name_of(loss)

    @property
    def metrics(self) -> list[str | None]:
        metrics = (self.compile_config or {}).get("metrics") or []
        return [_name_of(m) for m in metrics] if isinstance(metrics, list) else []

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.all_layers)

    def describe(self) -> str:
        """`LSTM(10) → Dense(8) → Dense(1)`."""
        return " → ".join(layer.describe() for layer in self.layers) or "no layers"

    def predict(self, X: Any) -> np.ndarray:
        """The model's output for X, computed with NumPy in float64 (Keras: float32).

        Runs Sequential models and functional models that are a single chain of
        layers; anything else raises UnsupportedModel naming what it cannot run."""
        x = np.asarray(X)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"predict needs real numbers, not dtype {x.dtype}")
        x = x.astype(float)
        if not self.built:
            raise UnsupportedModel("the model is not built (it has no input shape)")
        for layer in self._chain():
            x = run_layer(layer, x)
        return x

    def _chain(self) -> list[SavedLayer]:
        if self.class_name == "Sequential":
            return self.layers
        if self.class_name not in ("Functional", "Model"):
            raise UnsupportedModel(
                f"a {self.class_name} (a subclassed model) cannot be run without Keras; "
                "build it with keras.Sequential or keras.Model(inputs, outputs)"
            )
        feeds = _functional_feeds(self.config)
        previous = None
        for layer in self.all_layers:
            sources = feeds.get(layer.name)
            if sources is None or sources != ([] if previous is None else [previous]):
                raise UnsupportedModel(
                    f"layer {layer.name!r} is not fed by the layer before it: the NumPy "
                    "forward pass runs models that are one chain of layers"
                )
            previous = layer.name
        return self.layers


def _name_of(value: Any) -> str | None:
    """A name from a serialized Keras object: "relu", {"class_name": "Adam"}, a function."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("class_name") == "function" and isinstance(value.get("config"), str):
            return value["config"]
        if isinstance(value.get("class_name"), str):
            return value["class_name"]
    return None


def _history(node: Any) -> Iterator[str]:
    """Names of the layers whose outputs a serialized functional node reads."""
    if isinstance(node, dict):
        history = (
            (node.get("config") or {}).get("keras_history")
            if node.get("class_name") == "__keras_tensor__"
            else None
        )
        if isinstance(history, list) and history and isinstance(history[0], str):
            yield history[0]
            return
        for value in node.values():
            yield from _history(value)
    elif isinstance(node, list):
        for value in node:
            yield from _history(value)


def _functional_feeds(config: Any) -> dict[str, list[str]]:
    """Each layer's name → the names of the layers that feed it (functional config)."""
    layers = ((config or {}).get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise UnsupportedModel("the functional model's config lists no layers")
    feeds = {}
    for entry in layers:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            sources = list(dict.fromkeys(_history(entry.get("inbound_nodes", []))))
            feeds[entry["name"]] = sources
    return feeds


# -------------------------------------------------------- NumPy Keras semantics


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ through tanh: exact and overflow-free."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[float])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


# Keras 3's activations by the name a config stores, with their default arguments.
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "hard_swish": lambda x: x * _hard_sigmoid(x),
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "elu": _elu,
    "selu": lambda x: 1.0507009873554805 * _elu(x, 1.6732632423543772),
    "softplus": _softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "silu": lambda x: x * sigmoid(x),
    "swish": lambda x: x * sigmoid(x),
    "gelu": _gelu,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "exponential": np.exp,
}


def activation(name: Any, layer: str = "a layer") -> Callable[[np.ndarray], np.ndarray]:
    """The NumPy function for a Keras activation name (None means linear)."""
    key = "linear" if name is None else _name_of(name)
    if key not in ACTIVATIONS:
        raise UnsupportedModel(
            f"{layer} uses the activation {key or name!r}, which the NumPy forward pass "
            "does not know; use one of Keras's built-in activations by name"
        )
    return ACTIVATIONS[key]


_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
Act = Callable[[np.ndarray], np.ndarray]


def _recurrent_weights(
    cell: str, x: np.ndarray, kernel: Any, recurrent: Any, bias: Any, bias_shape: Callable
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Kernels as float arrays with the shapes Keras requires, or a ValueError that
    says which one is off: the message a learner reads when their weights do not fit."""
    if x.ndim != 3:
        raise ValueError(f"{cell} input should be (batch, timesteps, features), not {x.shape}")
    recurrent = np.asarray(recurrent, dtype=float)
    if recurrent.ndim != 2:
        raise ValueError(f"recurrent_kernel should be 2-D, not shape {recurrent.shape}")
    units, width = recurrent.shape[0], _GATES[cell] * recurrent.shape[0]
    wanted = {"kernel": (x.shape[2], width), "recurrent_kernel": (units, width)}
    arrays = {"kernel": np.asarray(kernel, dtype=float), "recurrent_kernel": recurrent}
    if bias is not None:
        wanted["bias"] = bias_shape(width)
        arrays["bias"] = np.asarray(bias, dtype=float)
    for name, shape in wanted.items():
        if arrays[name].shape != shape:
            raise ValueError(
                f"{cell} with {units} units on {x.shape[2]} features needs {name} of shape "
                f"{shape}, got {arrays[name].shape}"
            )
    return arrays["kernel"], recurrent, arrays.get("bias"), units


def _scan(step: Callable, x: np.ndarray, states: list[np.ndarray], go_backwards: bool):
    """Run `step(x_t, states) → (output, states)` over time, as keras.ops.rnn does:
    go_backwards reads the sequence from its end, and outputs stay in reading order."""
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outputs = []
    for t in steps:
        out, states = step(x[:, t], states)
        outputs.append(out)
    return np.stack(outputs, axis=1), states


def _initial(state: Any, batch: int, units: int) -> np.ndarray:
    if state is None:
        return np.zeros((batch, units))
    return np.broadcast_to(np.asarray(state, dtype=float), (batch, units)).copy()


def keras_lstm(
    x: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any = None,
    *,
    h0: Any = None,
    c0: Any = None,
    activation: Act = np.tanh,
    recurrent_activation: Act = sigmoid,
    go_backwards: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """keras.layers.LSTM in NumPy: (outputs (batch, T, units), h_T, c_T).

    x is (batch, T, features). Keras computes z = x_t @ kernel + h_{t-1} @
    recurrent_kernel + bias and splits z into the gates in the order i, f, c, o:
    c_t = f ⊙ c_{t-1} + i ⊙ act(c̃), h_t = o ⊙ act(c_t)."""
    x = np.asarray(x, dtype=float)
    k, r, b, u = _recurrent_weights("LSTM", x, kernel, recurrent_kernel, bias, lambda w: (w,))
    b = np.zeros(4 * u) if b is None else b

    def step(x_t, states):
        h, c = states
        z = x_t @ k + h @ r + b
        i, f, o = (recurrent_activation(z[:, j * u : (j + 1) * u]) for j in (0, 1, 3))
        c = f * c + i * activation(z[:, 2 * u : 3 * u])
        h = o * activation(c)
        return h, [h, c]

    batch = x.shape[0]
    states = [_initial(h0, batch, u), _initial(c0, batch, u)]
    outputs, (h, c) = _scan(step, x, states, go_backwards)
    return outputs, h, c


def keras_gru(
    x: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any = None,
    *,
    reset_after: bool = True,
    h0: Any = None,
    activation: Act = np.tanh,
    recurrent_activation: Act = sigmoid,
    go_backwards: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """keras.layers.GRU in NumPy: (outputs (batch, T, units), h_T).

    Gates in the order z, r, h: z = σ(x @ k_z + h @ r_z + b_z), likewise r. With
    reset_after=False the candidate is act(x @ k_h + (r ⊙ h) @ r_h + b_h) and the bias
    is one vector; with reset_after=True (Keras's default) it is
    act(x @ k_h + b_h + r ⊙ (h @ r_h + b'_h)), the bias two rows (input, recurrent).
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ candidate."""
    x = np.asarray(x, dtype=float)
    shape = (lambda w: (2, w)) if reset_after else (lambda w: (w,))
    k, r, b, u = _recurrent_weights("GRU", x, kernel, recurrent_kernel, bias, shape)
    b = np.zeros(shape(3 * u)) if b is None else b
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros(3 * u))

    def step(x_t, states):
        (h,) = states
        xz = x_t @ k + b_in
        hz = h @ r[:, : 2 * u] + b_rec[: 2 * u]
        z = recurrent_activation(xz[:, :u] + hz[:, :u])
        reset = recurrent_activation(xz[:, u : 2 * u] + hz[:, u:])
        # reset_after: r scales the recurrent product; before: r scales h itself.
        rec = (
            reset * (h @ r[:, 2 * u :] + b_rec[2 * u :])
            if reset_after
            else (reset * h) @ r[:, 2 * u :]
        )
        h = z * h + (1.0 - z) * activation(xz[:, 2 * u :] + rec)
        return h, [h]

    outputs, (h,) = _scan(step, x, [_initial(h0, x.shape[0], u)], go_backwards)
    return outputs, h


def keras_simple_rnn(
    x: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any = None,
    *,
    h0: Any = None,
    activation: Act = np.tanh,
    go_backwards: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """keras.layers.SimpleRNN in NumPy: h_t = act(x_t @ kernel + bias + h_{t-1} @ recurrent)."""
    x = np.asarray(x, dtype=float)
    k, r, b, u = _recurrent_weights("SimpleRNN", x, kernel, recurrent_kernel, bias, lambda w: (w,))
    b = np.zeros(u) if b is None else b

    def step(x_t, states):
        h = activation(x_t @ k + b + states[0] @ r)
        return h, [h]

    outputs, (h,) = _scan(step, x, [_initial(h0, x.shape[0], u)], go_backwards)
    return outputs, h


# ---------------------------------------------------------------- layer runners

# Layers that pass their input through unchanged at inference (predict, training=False).
IDENTITY_LAYERS = frozenset(
    {
        "InputLayer",
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
    }
)


def _run_recurrent(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    cfg, w = layer.config, layer.weights
    for flag in ("stateful", "return_state"):
        if cfg.get(flag):
            raise UnsupportedModel(
                f"layer {layer.name!r} ({layer.class_name}) has {flag}=True, which the NumPy "
                "forward pass does not run"
            )
    if x.ndim != 3 or x.shape[2] != w["kernel"].shape[0]:
        raise ValueError(
            f"layer {layer.name!r} ({layer.class_name}) expects (batch, timesteps, "
            f"{w['kernel'].shape[0]}) but receives shape {x.shape}"
        )
    where = f"layer {layer.name!r}"
    act = activation(cfg.get("activation", "tanh"), where)
    common = {"activation": act, "go_backwards": bool(cfg.get("go_backwards", False))}
    args = (x, w["kernel"], w["recurrent_kernel"], w.get("bias"))
    if layer.class_name == "SimpleRNN":
        outputs = keras_simple_rnn(*args, **common)[0]
    else:
        common["recurrent_activation"] = activation(
            cfg.get("recurrent_activation", "sigmoid"), where
        )
        if layer.class_name == "LSTM":
            outputs = keras_lstm(*args, **common)[0]
        else:
            reset_after = bool(cfg.get("reset_after", True))
            outputs = keras_gru(*args, reset_after=reset_after, **common)[0]
    return outputs if cfg.get("return_sequences", False) else outputs[:, -1]


def _run_dense(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    kernel = layer.weights["kernel"]
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"layer {layer.name!r} (Dense) expects {kernel.shape[0]} features on the last "
            f"axis but receives shape {x.shape}"
        )
    y = x @ kernel + layer.weights.get("bias", 0.0)
    return activation(layer.config.get("activation"), f"layer {layer.name!r}")(y)


def _run_bidirectional(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    forward, backward = layer.forward_layer, layer.backward_layer
    if forward is None or backward is None:
        raise ModelDataError(f"malformed model data: {layer.name!r} lacks one of its directions")
    y, y_rev = run_layer(forward, x), run_layer(backward, x)
    if forward.return_sequences:
        y_rev = y_rev[:, ::-1]  # Keras re-aligns the backward outputs with time
    mode = layer.merge_mode
    merged = {
        "concat": lambda: np.concatenate([y, y_rev], axis=-1),
        "sum": lambda: y + y_rev,
        "ave": lambda: (y + y_rev) / 2.0,
        "mul": lambda: y * y_rev,
    }
    if mode not in merged:
        raise UnsupportedModel(
            f"layer {layer.name!r} (Bidirectional) has merge_mode={mode!r}; the NumPy "
            "forward pass runs concat, sum, ave and mul"
        )
    return merged[mode]()


def _run_time_distributed(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    inner = layer.wrapped.get("layer")
    if inner is None:
        raise ModelDataError(f"malformed model data: {layer.name!r} wraps no layer")
    batch, steps = x.shape[:2]
    y = run_layer(inner, x.reshape(batch * steps, *x.shape[2:]))
    return y.reshape(batch, steps, *y.shape[1:])


def _run_batch_norm(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    w, cfg = layer.weights, layer.config
    if cfg.get("axis", -1) not in (-1, [-1], x.ndim - 1, [x.ndim - 1]):
        raise UnsupportedModel(f"layer {layer.name!r} normalises an axis other than the last")
    try:
        mean, var = w["moving_mean"], w["moving_variance"]
    except KeyError as exc:
        raise ModelDataError(f"malformed model data: {layer.name!r} has no {exc}") from None
    y = (x - mean) / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
    return y * w.get("gamma", 1.0) + w.get("beta", 0.0)


_RUNNERS: dict[str, Callable[[SavedLayer, np.ndarray], np.ndarray]] = {
    "LSTM": _run_recurrent,
    "GRU": _run_recurrent,
    "SimpleRNN": _run_recurrent,
    "Dense": _run_dense,
    "Bidirectional": _run_bidirectional,
    "TimeDistributed": _run_time_distributed,
    "BatchNormalization": _run_batch_norm,
    "Flatten": lambda layer, x: x.reshape(x.shape[0], -1),
    "Activation": lambda layer, x: activation(
        layer.config.get("activation"), f"layer {layer.name!r}"
    )(x),
}


def run_layer(layer: SavedLayer, x: np.ndarray) -> np.ndarray:
    """One layer's output for x, with Keras's inference semantics."""
    if layer.class_name in IDENTITY_LAYERS:
        return x
    runner = _RUNNERS.get(layer.class_name)
    if runner in (_run_recurrent, _run_dense) and not layer.weight_list:
        raise UnsupportedModel(f"layer {layer.name!r} has no weights: it was never built")
    if runner is None:
        raise UnsupportedModel(
            f"the NumPy forward pass cannot run a {layer.class_name} layer ({layer.name!r}); "
            f"it runs {', '.join(sorted(_RUNNERS))} and inference-identity layers "
            "such as Dropout"
        )
    return runner(layer, x)
