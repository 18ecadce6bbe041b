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
  counts, shapes, optimizer, loss, the graph that connects the layers, and
  `predict` — a NumPy forward pass with Keras's semantics.

`keras_lstm`, `keras_gru` and `keras_simple_rnn` are those semantics as plain
functions, for checks that hold weights rather than a model (lessons 12 and 19).

The graph, not the layer list
-----------------------------
`predict` rebuilds the model's graph from its config (Sequential: the layers in
order; functional: every layer's inbound nodes) and runs what the outputs depend on,
ops included: `keras.ops.sigmoid(x)`, `x + y`, `x[:, -1, :]` and the like become op
nodes in a functional model's config (module `keras.src.ops.*`), which the judge runs
too; a layer called twice runs twice. A layer that feeds no output does not change
the prediction, as in Keras (which leaves such a layer out of the model). What
the forward pass cannot run raises `UnsupportedModel` naming it; it never runs part
of a graph instead.

Runs: Dense, LSTM / GRU / SimpleRNN (return_sequences, return_state, go_backwards,
initial_state, use_bias, any built-in activation), Bidirectional (every merge_mode,
return_state, initial_state), TimeDistributed, BatchNormalization, LayerNormalization,
Normalization, Rescaling,
Flatten, Reshape, Permute, RepeatVector, Activation, Softmax, ReLU, LeakyReLU, ELU,
GlobalAverage/MaxPooling1D, the merge layers (Add, Subtract, Multiply, Average,
Maximum, Minimum, Concatenate), inference-identity layers (Dropout, GaussianNoise…,
Identity), and the ops in `OPS` (element-wise arithmetic and activations, slicing,
concatenate / stack, reshape / transpose / squeeze / expand_dims, mean / sum / max /
min). Refused with a sentence: Lambda (arbitrary Python), anything not Keras's own,
masks, `training=True` at call time, models nested as layers, stateful RNNs.

Keras's own, decided by the judge
---------------------------------
A learner's subclass of `Dense` is still called "Dense", and a function named
`linear` or `mse` may compute anything. So the judge never takes a name on trust:
`to_plain` also sends where each class and function comes from (module and
qualified name, the modules defining a layer's methods, the activation functions a
layer holds, each loss), the serialized config carries Keras's `module` and
`registered_name`, and the judge accepts as Keras's own only a class of a `keras.src.*`
module whose name is that of a Keras layer (`KERAS_LAYERS`), with no method defined
elsewhere, activations from `keras.src.activations` (or the `keras.ops` functions
that compute the same), losses from `keras.src.losses`, optimizers from
`keras.src.optimizers`; anything else is *custom*:

* `SavedModel.custom` — one sentence per object that is not Keras's own (layers,
  activations, op nodes, the loss, the optimizer), e.g. "layer 'dense' is a custom
  layer (class Dense from learner_module), which cannot be graded here: use
  keras.layers.Dense". `SavedModel.require_builtin()` raises `UnsupportedModel` with
  the first of them; `predict` refuses a graph that runs any of them.
* The names the checks compare never match a Keras name for a custom object:
  `SavedLayer.kind`, `SavedLayer.activation`, `SavedModel.loss` and
  `SavedModel.optimizer` read "custom Dense", "custom linear", "custom mse",
  "custom Adam". `SavedLayer.custom` is the layer's sentence (None when built-in).

The graph, for the checks
-------------------------
`SavedModel.nodes` lists the graph's nodes (`Node`: layers, ops and inputs) in an
order where every node comes after what it reads. A `Node` has `name`, `kind`
("LSTM", "Bidirectional(LSTM)", "op Sigmoid"…), `layer` (its `SavedLayer`; None for
ops and inputs), `is_op`, `is_input`, `sources` (names of the nodes it reads),
`describe()` and `custom`.

* `model.output_nodes` — the nodes whose outputs are the model's outputs (the
  `Sigmoid` op, not the Dense before it, when the model ends in `keras.ops.sigmoid`).
* `model.path_nodes(output=None)` / `model.path_layers(output=None)` — the nodes /
  layers on a path from an input to an output (or to output `output`: an index in
  `output_nodes`, or a key of a dict of outputs), in graph order: what `predict` runs.
  "Is there an LSTM between input and output" is
  `any(l.kind == "LSTM" for l in model.path_layers())`.
* `model.unused_layers(output=None)` — layers that feed no output (or not that one):
  their weights change nothing there. A functional model whose second output is the
  BiLSTM, while the first reads an LSTM on the raw input, has the BiLSTM unused for
  output 0.
* `model.feeds(a, b)` — whether a's output reaches b (layers, nodes or names).
* `model.chain()` — the nodes after the input when the model is one chain from its
  single input to its single output (each reading the one before), else None: the
  connectivity of a stack.
* `model.node(name)`, `model.input_nodes`.

Plain format, version 2 (`FORMAT`, `VERSION`)::

    {"format": "workbook.keras-model", "version": 2,
     "class_name": str,              # "Sequential", "Functional", …
     "name": str,
     "config_json": str | None,      # keras.saving.serialize_keras_object(model), JSON
     "built": bool, "compiled": bool,
     "compile_config_json": str | None,   # model.get_compile_config() (loss, metrics…)
     "optimizer": None | {"class_name": str, "learning_rate": float | None,
                          "origin": ORIGIN},
     "losses": None | [{"name": str} | {"origin": ORIGIN}, …],   # model.loss's leaves
     "input_shapes": None | [[int | None, …], …],
     "output_shapes": None | [[int | None, …], …],
     "layers": [LAYER, …]}           # model.layers, in order
    LAYER = {"class_name": str, "name": str,
             "config_json": str,     # layer.get_config(), JSON
             "output_shapes": None | [[int | None, …], …],
             "weights": [{"path": str, "name": str, "value": ndarray}, …],
             "wrapped": {role: LAYER},   # Bidirectional: forward_layer, backward_layer;
                                         # other wrappers: layer. Weights live there.
             "origin": ORIGIN,           # the layer's class
             "methods": {method: module | None},   # where call, build… are defined
             "callables": {"activation" | "recurrent_activation": ORIGIN}}
    ORIGIN = {"module": str | None, "qualname": str | None, "name": str | None,
              "resolves": bool}      # that module holds this very object by that name
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from workbook.grading.keras_plain import (
    CALLABLES,
    FORMAT,
    MAX_DEPTH,
    METHODS,
    VERSION,
    WRAPPED_ROLES,
    to_plain,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelDataError",
    "Node",
    "SavedLayer",
    "SavedModel",
    "UnsupportedModel",
    "to_plain",
]


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
    except RecursionError:
        raise ModelDataError(f"malformed model data: {where}[{key!r}] nests too deeply") from None
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


# ------------------------------------------------------- judge: what is Keras's own

# The layer classes `keras.layers` exports (Keras 3), as data: the judge never imports
# Keras to ask. A class of this name from a `keras.src.layers` module is Keras's own.
KERAS_LAYERS = frozenset(
    """
    Activation ActivityRegularization AdaptiveAveragePooling1D AdaptiveAveragePooling2D
    AdaptiveAveragePooling3D AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D
    Add AdditiveAttention AlphaDropout Attention AugMix AutoContrast Average
    AveragePooling1D AveragePooling2D AveragePooling3D BatchNormalization Bidirectional
    CategoryEncoding CenterCrop Concatenate ContrastLimitedAdaptiveHistogramEqualization
    Conv1D Conv1DTranspose Conv2D Conv2DTranspose Conv3D Conv3DTranspose ConvLSTM1D
    ConvLSTM2D ConvLSTM3D Cropping1D Cropping2D Cropping3D CutMix Dense DepthwiseConv1D
    DepthwiseConv2D Discretization Dot Dropout ELU EinsumDense Embedding Equalization
    Flatten FlaxLayer GRU GRUCell GaussianDropout GaussianNoise GlobalAveragePooling1D
    GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D
    GlobalMaxPooling3D GroupNormalization GroupQueryAttention HashedCrossing Hashing
    Identity InputLayer IntegerLookup JaxLayer LSTM LSTMCell Lambda LayerNormalization
    LeakyReLU Masking MaxNumBoundingBoxes MaxPooling1D MaxPooling2D MaxPooling3D Maximum
    MelSpectrogram Minimum MixUp MultiHeadAttention Multiply Normalization PReLU Permute
    Pipeline RMSNormalization RNN RandAugment RandomBrightness RandomColorDegeneration
    RandomColorJitter RandomContrast RandomCrop RandomElasticTransform RandomErasing
    RandomFlip RandomGaussianBlur RandomGrayscale RandomHue RandomInvert RandomPerspective
    RandomPosterization RandomRotation RandomSaturation RandomSharpness RandomShear
    RandomTranslation RandomZoom ReLU RepeatVector Rescaling Reshape Resizing
    ReversibleEmbedding STFTSpectrogram SeparableConv1D SeparableConv2D SimpleRNN
    SimpleRNNCell Softmax Solarization SpatialDropout1D SpatialDropout2D SpatialDropout3D
    SpectralNormalization StackedRNNCells StringLookup Subtract TFSMLayer TextVectorization
    TimeDistributed TorchModuleWrapper UnitNormalization UpSampling1D UpSampling2D
    UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D
    """.split()  # noqa: SIM905 - a table of names reads best as text
)
# Models used as layers are Keras's own too (the forward pass refuses them).
KERAS_MODELS = frozenset({"Sequential", "Functional", "Model"})

# keras.ops functions a learner may pass as an activation, which compute exactly what
# the activation of the same name does (ops.gelu does not: it approximates).
OPS_AS_ACTIVATIONS = frozenset(
    {
        "sigmoid",
        "tanh",
        "relu",
        "relu6",
        "softplus",
        "softsign",
        "silu",
        "elu",
        "selu",
        "softmax",
        "log_softmax",
        "leaky_relu",
        "hard_sigmoid",
        "hard_silu",
    }
)


def _origin_field(data: Any, where: str) -> dict[str, Any]:
    _need(isinstance(data, dict), f"{where} should be a dict")
    found = {}
    for key in ("module", "qualname", "name"):
        value = data.get(key)
        _need(value is None or isinstance(value, str), f"{where}[{key!r}] should be str or None")
        found[key] = value
    found["resolves"] = _field(data, "resolves", bool, where)
    return found


def _from_keras(module: Any, prefix: str) -> bool:
    return isinstance(module, str) and module.startswith(prefix)


def _top_level(origin: dict[str, Any]) -> bool:
    """A module-level function or class (not nested in a function or class) that its
    module really holds under that name."""
    qualname = origin.get("qualname")
    return (
        isinstance(qualname, str)
        and qualname == origin.get("name")
        and "<" not in qualname
        and origin.get("resolves") is True
    )


def _where_from(origin: dict[str, Any]) -> str:
    name = origin.get("qualname") or origin.get("name") or "?"
    module = origin.get("module") or "an unknown module"
    if origin.get("resolves") is not True and _from_keras(module, "keras."):
        return f"{name}, which claims {module} but is not found there"
    return f"{name} from {module}"


def _class_custom(layer: SavedLayer) -> str | None:
    """Why a layer's class is not Keras's own (a sentence), or None."""
    cls, origin = layer.class_name, layer.origin
    known = cls in KERAS_LAYERS or cls in KERAS_MODELS
    prefix = "keras.src.models." if cls in KERAS_MODELS else "keras.src.layers."
    suggestion = f"keras.layers.{cls}" if cls in KERAS_LAYERS else "Keras's built-in layers"
    own = (
        known
        and _from_keras(origin.get("module"), prefix)
        and origin.get("qualname") == cls
        and _top_level(origin)
    )
    foreign = sorted(
        method
        for method, module in layer.methods.items()
        if module is not None and not _from_keras(module, "keras.")
    )
    if not own or foreign:
        written = f"; its {', '.join(foreign)} defined outside Keras" if foreign else ""
        return (
            f"layer {layer.name!r} is a custom layer (class {_where_from(origin)}{written}), "
            f"which cannot be graded here: use {suggestion}"
        )
    return None


def _layer_custom(layer: SavedLayer) -> str | None:
    """Why a layer is not Keras's own — its class, its activations, a layer it wraps —
    or None. A Lambda layer's class is Keras's, its function the learner's."""
    if layer.class_custom is not None:
        return layer.class_custom
    if layer.class_name == "Lambda":
        return (
            f"layer {layer.name!r} is a Lambda layer: it runs Python the grader cannot run "
            "here; write the computation with built-in layers, or with keras.ops and "
            "operators on the tensors (`keras.ops.sigmoid(x)`, `x[:, -1, :]`, `x + y`)"
        )
    for attribute in CALLABLES:
        if attribute not in layer.config:
            continue
        named = _name_of(layer.config.get(attribute)) or "linear"  # None: Keras's linear
        function = layer.callables.get(attribute)
        if function is None:
            return (
                f"layer {layer.name!r}'s {attribute} {named!r} cannot be told from a custom "
                "function (the grader did not receive it)"
            )
        if _keras_own(function, named) and named not in ACTIVATIONS:
            return (
                f"layer {layer.name!r}'s {attribute} is Keras's {named!r}, which the "
                "grader's NumPy forward pass does not run: use one of "
                f"{', '.join(sorted(ACTIVATIONS))}"
            )
        if not _builtin_activation(function, named):
            return (
                f"layer {layer.name!r}'s {attribute} is a custom function "
                f"({_where_from(function)}), not Keras's {named!r}, which cannot be graded "
                "here: pass a built-in activation by name, e.g. activation='relu'"
            )
    for child in layer.wrapped.values():
        if child.custom:
            return child.custom
    return None


def _keras_own(function: dict[str, Any], named: str | None) -> bool:
    """Whether an activation function is one of Keras's own, under its own name."""
    return (
        _top_level(function)
        and function.get("name") == named
        and _from_keras(function.get("module"), "keras.src.activations.")
    )


def _builtin_activation(function: dict[str, Any], named: str | None) -> bool:
    name = function.get("name")
    if not _top_level(function) or name != named or name not in ACTIVATIONS:
        return False
    if _keras_own(function, named):
        return True
    return _from_keras(function.get("module"), "keras.src.ops.") and name in OPS_AS_ACTIVATIONS


def _loss_custom(entries: Any) -> str | None:
    """Why the compiled loss is not Keras's own (a sentence), or None."""
    if entries is None:
        return None
    _need(isinstance(entries, list), "the model's losses should be a list")
    for entry in entries:
        _need(isinstance(entry, dict), "the model's losses should hold dicts")
        if "name" in entry:
            _field(entry, "name", str, "a loss")
            continue  # a name Keras looks up in its own table
        origin = _origin_field(entry.get("origin"), "a loss's origin")
        if not (_from_keras(origin.get("module"), "keras.src.losses.") and _top_level(origin)):
            return (
                f"the loss is a custom function or class ({_where_from(origin)}), which "
                "cannot be graded here: use one of Keras's losses, e.g. loss='mse'"
            )
    return None


def _optimizer_custom(class_name: str, origin: dict[str, Any]) -> str | None:
    own = (
        _from_keras(origin.get("module"), "keras.src.optimizers.")
        and origin.get("qualname") == class_name
        and _top_level(origin)
    )
    if own:
        return None
    return (
        f"the optimizer is a custom class ({_where_from(origin)}), which cannot be graded "
        "here: use one of keras.optimizers, e.g. keras.optimizers.Adam"
    )


# ------------------------------------------------------------------ judge: layers


class SavedLayer:
    """One layer as the judge sees it: class, settings (its config), weights by name.

    Attribute names follow Keras where the checks used Keras's (`units`,
    `return_sequences`, `forward_layer`, `count_params()`), so the checks read alike.
    `class_name` is the class's own name as sent; `kind` is what checks compare, and
    reads "custom Dense" for a class that is not Keras's own (`custom` says why)."""

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
        nested_model = self.class_name in KERAS_MODELS  # refused when run, not malformed
        for path, name, value in self.weight_list:
            _need(
                nested_model or name not in self.weights,
                f"{where} has two weights named {name!r} ({path})",
            )
            self.weights[name] = value
        wrapped = _field(data, "wrapped", dict, where)
        _need(set(wrapped) <= set(WRAPPED_ROLES), f"{where} wraps unknown roles {set(wrapped)}")
        self.wrapped = {
            role: SavedLayer(child, f"{where}'s {role}", depth + 1)
            for role, child in wrapped.items()
        }
        self.origin = _origin_field(_field(data, "origin", dict, where), f"{where}'s origin")
        methods = _field(data, "methods", dict, where)
        _need(set(methods) <= set(METHODS), f"{where} names unknown methods {set(methods)}")
        for module in methods.values():
            _need(module is None or isinstance(module, str), f"{where}'s methods: str or None")
        self.methods: dict[str, Any] = methods
        callables = _field(data, "callables", dict, where)
        _need(set(callables) <= set(CALLABLES), f"{where} names unknown callables")
        self.callables = {
            key: _origin_field(value, f"{where}'s {key}") for key, value in callables.items()
        }
        _check_weights(self)
        self.class_custom: str | None = _class_custom(self)
        self.custom: str | None = _layer_custom(self)

    def __repr__(self) -> str:
        return f"<SavedLayer {self.describe()} name={self.name!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        """A config entry (e.g. `dropout`, `merge_mode`), or `default`."""
        return self.config.get(key, default)

    @property
    def builtin(self) -> bool:
        """Keras's own class, activations and wrapped layers (see the module docstring)."""
        return self.custom is None

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
    def _own_kind(self) -> str:
        return self.class_name if self.class_custom is None else f"custom {self.class_name}"

    @property
    def kind(self) -> str:
        """The class name; a wrapper reads as `Bidirectional(LSTM)`; a class that is not
        Keras's own as `custom Dense`."""
        inner = self.inner
        return f"{self._own_kind}({inner.kind})" if inner else self._own_kind

    @property
    def units(self) -> int | None:
        units = self.config.get("units")
        return units if type(units) is int else None

    @property
    def activation(self) -> str | None:
        """The activation's name as Keras saved it ("linear" when none was given);
        "custom <name>" when the function is not Keras's own."""
        return self._callable_name("activation")

    @property
    def recurrent_activation(self) -> str | None:
        return self._callable_name("recurrent_activation")

    def _callable_name(self, attribute: str) -> str | None:
        if attribute not in self.config:
            return None
        named = _name_of(self.config.get(attribute)) or "linear"  # None: Keras's linear
        function = self.callables.get(attribute)
        if function is None or not _builtin_activation(function, named):
            return f"custom {named or (function or {}).get('name') or 'function'}"
        return named

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
        """`LSTM(10)`, `Dense(1)`, `Bidirectional(LSTM)`, `custom Dense(1)`."""
        return f"{self.kind}({self.units})" if self.units is not None else self.kind


# ------------------------------------------------------------------- judge: graph


class Ref:
    """A tensor in a functional config: output `tensor` of call `call` of node `node`."""

    __slots__ = ("call", "node", "tensor")

    def __init__(self, node: str, call: int, tensor: int) -> None:
        self.node, self.call, self.tensor = node, call, tensor

    def __repr__(self) -> str:
        return f"<tensor {self.node}[{self.call}][{self.tensor}]>"


class _Constant:
    """A value in a call's arguments that the judge does not read (named in refusals)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return self.what


class Call:
    """One call of a node: the positional and keyword arguments, tensors as `Ref`s."""

    def __init__(self, args: list, kwargs: dict) -> None:
        self.args, self.kwargs = args, kwargs

    def refs(self) -> list[Ref]:
        return list(_refs_in([self.args, self.kwargs]))


def _refs_in(value: Any) -> Iterable[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _refs_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs_in(item)


def _history_triple(value: Any, where: str) -> tuple[str, int, int]:
    _need(
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(type(i) is int and i >= 0 for i in value[1:]),
        f"{where} should be [layer name, node index, tensor index], not {value!r:.80}",
    )
    return value[0], value[1], value[2]


def _argument(value: Any, where: str, depth: int = 0) -> Any:
    """A call argument from a functional config: tensors become `Ref`s, Keras's tagged
    slices, ellipses and NumPy constants their Python values."""
    _need(depth <= 32, f"{where} nests more than 32 deep")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_argument(item, where, depth + 1) for item in value]
    _need(isinstance(value, dict), f"{where} holds a {type(value).__name__}")
    tag = value.get("class_name")
    config = value.get("config")
    if tag == "__keras_tensor__":
        _need(isinstance(config, dict), f"{where}: a tensor without its config")
        return Ref(*_history_triple(config.get("keras_history"), f"{where}'s keras_history"))
    if tag == "__slice__":
        _need(isinstance(config, dict), f"{where}: a slice without its config")
        parts = [config.get(key) for key in ("start", "stop", "step")]
        if all(part is None or type(part) is int for part in parts):
            return slice(*parts)
        return _Constant("a slice by tensors")
    if tag == "__ellipsis__":
        return Ellipsis
    if tag in ("__numpy__", "__tensor__") and isinstance(config, dict):
        try:
            array = np.array(config.get("value"), dtype=np.dtype(config.get("dtype")))
        except (TypeError, ValueError):
            return _Constant("a NumPy constant the grader cannot read")
        if array.dtype.kind in "biuf":
            return array.astype(float)
        return _Constant(f"a NumPy constant of dtype {array.dtype}")
    if isinstance(tag, str) and set(value) <= {"class_name", "config", "module", "registered_name"}:
        return _Constant(f"a {tag}")
    return {str(key): _argument(item, where, depth + 1) for key, item in value.items()}


class Node:
    """A node of the model's graph: an input, a layer, or an op (`keras.ops.sigmoid`,
    `x + y`, `x[:, -1, :]` in a functional model). See the module docstring."""

    def __init__(
        self,
        name: str,
        class_name: str,
        *,
        layer: SavedLayer | None = None,
        op_config: dict | None = None,
        module: str | None = None,
        registered_name: str | None = None,
        calls: list[Call] | None = None,
        is_input: bool = False,
    ) -> None:
        self.name = name
        self.class_name = class_name
        self.layer = layer
        self.op_config = op_config or {}
        self.module = module
        self.registered_name = registered_name
        self.calls = calls or []
        self.is_input = is_input
        self.is_op = layer is None and not is_input
        self.custom = self._custom()

    def __repr__(self) -> str:
        return f"<Node {self.name!r} {self.kind}>"

    def _custom(self) -> str | None:
        serialized_own = (
            self.registered_name in (None, self.class_name)
            and isinstance(self.module, str)
            and (self.module == "keras" or self.module.startswith("keras."))
        )
        if self.is_op:
            if serialized_own and _from_keras(self.module, "keras.src.ops."):
                return None
            return (
                f"{self.name!r} is a custom operation ({self.class_name} from "
                f"{self.module or 'an unknown module'}), which cannot be graded here: use "
                "keras.ops or Keras's layers"
            )
        if self.layer is not None and self.layer.custom is not None:
            return self.layer.custom
        if not serialized_own and not self.is_input:
            return (
                f"layer {self.name!r} is saved as a custom object (registered as "
                f"{self.registered_name!r}, module {self.module!r}), which cannot be graded "
                f"here: use Keras's built-in layers"
            )
        return None

    @property
    def kind(self) -> str:
        """The layer's kind ("LSTM", "Bidirectional(LSTM)"), "op Sigmoid", "Input"."""
        if self.layer is not None:
            return self.layer.kind
        return "Input" if self.is_input else f"op {self.class_name}"

    @property
    def sources(self) -> list[str]:
        """The names of the nodes this node reads, in order, each once."""
        return list(dict.fromkeys(ref.node for call in self.calls for ref in call.refs()))

    def describe(self) -> str:
        if self.layer is not None:
            return self.layer.describe()
        if self.is_input:
            return "Input"
        if self.class_name == "GetItem" and self.calls and len(self.calls[0].args) == 2:
            return _describe_key(self.calls[0].args[1])
        return _snake(self.class_name)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _describe_key(key: Any) -> str:
    def one(item: Any) -> str:
        if isinstance(item, slice):
            text = ":".join("" if p is None else str(p) for p in (item.start, item.stop))
            return text + (f":{item.step}" if item.step is not None else "")
        if item is Ellipsis:
            return "..."
        return "None" if item is None else str(item)

    items = key if isinstance(key, list) else [key]
    return f"[{', '.join(one(item) for item in items)}]"


class Graph:
    """The model's nodes, their calls, and its inputs and outputs (refs, in Keras's
    structure: one, a list, or a dict)."""

    def __init__(self, nodes: list[Node], inputs: list[Ref], outputs: Any) -> None:
        self.by_name = {node.name: node for node in nodes}
        self.inputs = inputs
        self.input_keys: list[str] | None = None  # the keys of a dict of inputs
        self.outputs = outputs
        for node in nodes:
            for call in node.calls:
                for ref in call.refs():
                    self._check_ref(ref, f"node {node.name!r}")
        for ref in [*inputs, *_refs_in(outputs)]:
            self._check_ref(ref, "the model's inputs and outputs")
        self.order = self._topological(nodes)

    def _check_ref(self, ref: Ref, where: str) -> None:
        node = self.by_name.get(ref.node)
        _need(node is not None, f"{where} reads {ref.node!r}, which is not in the model")
        calls = 1 if node.is_input else len(node.calls)
        _need(ref.call < calls, f"{where} reads call {ref.call} of {ref.node!r}")

    def _topological(self, nodes: list[Node]) -> list[Node]:
        """Nodes ordered so that each comes after every node it reads; a cycle is data no
        Keras model can produce."""
        placed: dict[str, int] = {}
        order: list[Node] = []
        for start in nodes:
            if start.name in placed:
                continue
            stack = [(start, iter(start.sources))]
            visiting = {start.name}
            while stack:
                node, pending = stack[-1]
                source = next(pending, None)
                if source is None:
                    stack.pop()
                    visiting.discard(node.name)
                    placed[node.name] = len(order)
                    order.append(node)
                elif source not in placed:
                    _need(source not in visiting, f"the graph has a cycle through {source!r}")
                    visiting.add(source)
                    stack.append((self.by_name[source], iter(self.by_name[source].sources)))
        return order

    def output_refs(self) -> list[Ref]:
        return list(_refs_in(self.outputs))

    def ancestors(self, names: Iterable[str]) -> set[str]:
        """The named nodes and every node they read from, directly or not."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.by_name[name].sources)
        return seen

    def descendants(self, names: Iterable[str]) -> set[str]:
        readers: dict[str, list[str]] = {}
        for node in self.order:
            for source in node.sources:
                readers.setdefault(source, []).append(node.name)
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(readers.get(name, []))
        return seen


def _structure(value: Any, where: str) -> Any:
    """Keras's inputs / outputs structure: one triple, a list of them, a dict of them."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return Ref(*_history_triple(value, where))
    if isinstance(value, list):
        _need(value != [], f"{where} is empty")
        return [_structure(item, where) for item in value]
    _need(isinstance(value, dict) and value != {}, f"{where} should list layers")
    return {str(key): _structure(item, where) for key, item in value.items()}


def _entry_strings(entry: dict, where: str) -> tuple[str, str | None, str | None]:
    class_name = _field(entry, "class_name", str, where)
    module = entry.get("module")
    registered = entry.get("registered_name")
    _need(module is None or isinstance(module, str), f"{where}'s module should be a string")
    _need(registered is None or isinstance(registered, str), f"{where}'s registered_name")
    return class_name, module, registered


def _functional_graph(config: Any, layers: list[SavedLayer]) -> Graph:
    """The graph of a functional model's serialized config; its layers' weights and
    settings are the plain layers of the same names."""
    inner = config.get("config") if isinstance(config, dict) else None
    entries = inner.get("layers") if isinstance(inner, dict) else None
    _need(isinstance(entries, list), "the functional model's config lists no layers")
    _need(len(entries) <= 4 * MAX_LAYERS, f"the model's config has {len(entries)} nodes")
    plain = {layer.name: layer for layer in layers}
    _need(len(plain) == len(layers), "two layers share a name")
    nodes, seen = [], set()
    for index, entry in enumerate(entries):
        where = f"the model config's layer {index}"
        name = _field(entry, "name", str, where)
        where = f"the model config's layer {name!r}"
        _need(name not in seen, f"two nodes are named {name!r}")
        seen.add(name)
        class_name, module, registered = _entry_strings(entry, where)
        layer = plain.get(name)
        inbound = entry.get("inbound_nodes", [])
        _need(isinstance(inbound, list), f"{where}'s inbound_nodes should be a list")
        calls = []
        for call in inbound:
            _need(
                isinstance(call, dict) and isinstance(call.get("args", []), list),
                f"{where}'s inbound nodes should be {{'args': [...], 'kwargs': {{...}}}} (Keras 3)",
            )
            kwargs = call.get("kwargs", {})
            _need(isinstance(kwargs, dict), f"{where}'s kwargs should be a dict")
            calls.append(Call(_argument(call.get("args", []), where), _argument(kwargs, where)))
        is_input = class_name == "InputLayer"
        if layer is not None:
            _need(
                layer.class_name == class_name,
                f"{where} is a {class_name} in the config but a {layer.class_name} in the layers",
            )
        else:  # an op (Keras's, or an Operation subclass: custom), or an input
            _need(is_input or calls, f"{where} is called nowhere")
        op_config = entry.get("config")
        _need(isinstance(op_config, dict), f"{where}'s config should be a dict")
        nodes.append(
            Node(
                name,
                class_name,
                layer=None if is_input else layer,
                op_config=op_config,
                module=module,
                registered_name=registered,
                calls=[] if is_input else calls,
                is_input=is_input,
            )
        )
    missing = set(plain) - seen
    _need(not missing, f"layers {sorted(missing)} are not in the model's config")
    inputs = _structure(
        _field(inner, "input_layers", (list, dict), "the model config"), "input_layers"
    )
    outputs = _structure(
        _field(inner, "output_layers", (list, dict), "the model config"), "output_layers"
    )
    input_refs = list(_refs_in(inputs))
    for ref in input_refs:
        _need(
            ref.node in seen and ref.call == ref.tensor == 0,
            f"the model's input {ref.node!r} is not an input layer",
        )
    graph = Graph(nodes, input_refs, outputs)
    if isinstance(inputs, dict):
        graph.input_keys = list(inputs)
    for ref in input_refs:
        _need(graph.by_name[ref.node].is_input, f"the model's input {ref.node!r} is a layer")
    return graph


def _sequential_graph(config: Any, layers: list[SavedLayer]) -> Graph:
    """A Sequential model: its layers in order, each reading the one before. The
    serialized config, when sent, gives each layer's module and registered name."""
    saved: dict[str, tuple[str | None, str | None]] = {}
    entries = (
        ((config or {}).get("config") or {}).get("layers") if isinstance(config, dict) else None
    )
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            where = f"the Sequential config's layer {index}"
            _, module, registered = _entry_strings(entry, where)
            inner = _field(entry, "config", dict, where)
            if isinstance(inner.get("name"), str):
                saved[inner["name"]] = (module, registered)
    nodes = [Node("input", "InputLayer", is_input=True)]
    for layer in layers:
        _need(layer.name != "input", "a Sequential layer is named 'input'")
        module, registered = saved.get(layer.name, (None, None))
        if layer.name not in saved:
            module = "keras.layers"  # no config: the plain layer's own origin decides
        call = Call([Ref(nodes[-1].name, 0, 0)], {})
        nodes.append(
            Node(
                layer.name,
                layer.class_name,
                layer=layer,
                module=module,
                registered_name=registered,
                calls=[call],
            )
        )
    return Graph(nodes, [Ref("input", 0, 0)], Ref(nodes[-1].name, 0, 0))


# ------------------------------------------------------------------ judge: model


class SavedModel:
    """A Keras model received as plain data: structure, settings, weights, its graph,
    and a NumPy forward pass. Built in the judge from `to_plain`'s output, which it
    never trusts."""

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
        self._optimizer: str | None = None
        self.learning_rate: float | None = None
        self.optimizer_custom: str | None = None
        if optimizer is not None:
            self._optimizer = _field(optimizer, "class_name", str, "the optimizer")
            rate = _field(optimizer, "learning_rate", (int, float, type(None)), "the optimizer")
            self.learning_rate = None if rate is None else float(rate)
            origin = _origin_field(optimizer.get("origin"), "the optimizer's origin")
            self.optimizer_custom = _optimizer_custom(self._optimizer, origin)
        self.loss_custom: str | None = _loss_custom(plain.get("losses"))
        self.input_shapes = _shape_list(plain.get("input_shapes"), "the model's input_shapes")
        self.output_shapes = _shape_list(plain.get("output_shapes"), "the model's output_shapes")
        entries = _field(plain, "layers", list, where)
        _need(len(entries) <= MAX_LAYERS, f"{len(entries)} layers is more than {MAX_LAYERS}")
        self.all_layers = [SavedLayer(entry, f"layer {i}") for i, entry in enumerate(entries)]
        # Keras's Sequential.layers leaves the InputLayer out, a functional model's
        # keeps it; the checks want the same list from both.
        self.layers = [layer for layer in self.all_layers if layer.class_name != "InputLayer"]
        self._graph: Graph | None = None
        self._graph_refusal: str | None = None
        if self.class_name == "Sequential":
            self._graph = _sequential_graph(self.config, self.layers)
        elif self.class_name in ("Functional", "Model"):
            if self.config is None:
                self._graph_refusal = "the model's structure (its config) was not sent"
            else:
                self._graph = _functional_graph(self.config, self.all_layers)
        else:
            self._graph_refusal = (
                f"a {self.class_name} (a subclassed model) cannot be run without Keras; "
                "build it with keras.Sequential or keras.Model(inputs, outputs)"
            )

    def __repr__(self) -> str:
        return f"<SavedModel {self.class_name} {self.describe()}>"

    # -- what Keras's own attributes say ------------------------------------------

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        return self.input_shapes[0] if self.input_shapes else None

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return self.output_shapes[0] if self.output_shapes else None

    @property
    def optimizer(self) -> str | None:
        """The optimizer's class name ("Adam"), "custom <name>" when it is not Keras's
        own, None when not compiled."""
        if self._optimizer is None or self.optimizer_custom is None:
            return self._optimizer
        return f"custom {self._optimizer}"

    @property
    def loss(self) -> str | None:
        """The loss as the compile config names it: "mse", "mean_squared_error",
        "MeanSquaredError" (a loss object), a function's name; "custom <name>" when it
        is not Keras's own; None when not compiled."""
        loss = (self.compile_config or {}).get("loss")
        if isinstance(loss, list) and len(loss) == 1:
            loss = loss[0]
        if isinstance(loss, dict) and "class_name" not in loss and len(loss) == 1:
            loss = next(iter(loss.values()))  # {"output_name": loss}
        name = _name_of(loss)
        if self.loss_custom is None:
            return name
        return f"custom {name or 'loss'}"

    @property
    def metrics(self) -> list[str | None]:
        metrics = (self.compile_config or {}).get("metrics") or []
        return [_name_of(m) for m in metrics] if isinstance(metrics, list) else []

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.all_layers)

    # -- Keras's own or not ----------------------------------------------------------

    @property
    def custom(self) -> list[str]:
        """A sentence for each part that is not Keras's own: layers (their classes,
        activations, wrapped layers), op nodes, the loss, the optimizer. Empty when the
        whole model is built from Keras."""
        found = [layer.custom for layer in self.layers if layer.custom]
        if self._graph is not None:
            found += [n.custom for n in self._graph.order if n.custom and n.layer is None]
            found += [
                n.custom
                for n in self._graph.order
                if n.custom and n.layer is not None and n.layer.custom is None
            ]
        found += [text for text in (self.loss_custom, self.optimizer_custom) if text]
        return list(dict.fromkeys(found))

    def require_builtin(self) -> None:
        """Raise UnsupportedModel naming the first part that is not Keras's own."""
        custom = self.custom
        if custom:
            more = f" (and {len(custom) - 1} more)" if len(custom) > 1 else ""
            raise UnsupportedModel(custom[0] + more)

    # -- the graph ---------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            raise UnsupportedModel(self._graph_refusal or "the model has no graph")
        return self._graph

    @property
    def nodes(self) -> list[Node]:
        """Every node (inputs, layers, ops), each after the nodes it reads."""
        return list(self.graph.order)

    def node(self, name: str) -> Node:
        try:
            return self.graph.by_name[name]
        except KeyError:
            raise KeyError(f"the model has no layer or op named {name!r}") from None

    @property
    def input_nodes(self) -> list[Node]:
        return [self.graph.by_name[ref.node] for ref in self.graph.inputs]

    @property
    def output_nodes(self) -> list[Node]:
        """The nodes whose outputs are the model's outputs, in Keras's order."""
        return [self.graph.by_name[ref.node] for ref in self.graph.output_refs()]

    def path_nodes(self, output: int | str | None = None) -> list[Node]:
        """Nodes (layers and ops, inputs left out) on a path from an input to an output,
        each after what it reads: what `predict` runs. `output` narrows it to one of
        several outputs (its index in `output_nodes`, or its key for a dict of outputs)."""
        graph = self.graph
        feeding = graph.ancestors(ref.node for ref in self._output_refs(output))
        fed = graph.descendants(ref.node for ref in graph.inputs)
        return [n for n in graph.order if n.name in feeding and n.name in fed and not n.is_input]

    def _output_refs(self, output: int | str | None) -> list[Ref]:
        graph = self.graph
        if output is None:
            return graph.output_refs()
        if isinstance(output, str):
            if not isinstance(graph.outputs, dict) or output not in graph.outputs:
                raise KeyError(f"the model has no output named {output!r}")
            return list(_refs_in(graph.outputs[output]))
        refs = graph.output_refs()
        if not -len(refs) <= output < len(refs):
            raise IndexError(f"the model has {len(refs)} outputs, not {output + 1}")
        return [refs[output]]

    def path_layers(self, output: int | str | None = None) -> list[SavedLayer]:
        """The layers on a path from an input to an output (ops left out); `output` as
        in `path_nodes`."""
        return [n.layer for n in self.path_nodes(output) if n.layer is not None]

    def unused_layers(self, output: int | str | None = None) -> list[SavedLayer]:
        """Layers whose output reaches no output of the model (or not the one named by
        `output`): their weights change nothing it predicts there. (Keras itself drops
        from a functional model the layers that feed none of its outputs.)"""
        on_path = {id(layer) for layer in self.path_layers(output)}
        return [layer for layer in self.layers if id(layer) not in on_path]

    def feeds(self, source: SavedLayer | Node | str, target: SavedLayer | Node | str) -> bool:
        """Whether `source`'s output reaches `target` (directly or through other nodes)."""
        a, b = self._name(source), self._name(target)
        return a != b and a in self.graph.ancestors([b])

    def _name(self, item: SavedLayer | Node | str) -> str:
        name = item if isinstance(item, str) else item.name
        self.node(name)
        return name

    def chain(self) -> list[Node] | None:
        """The nodes after the input when the model is one chain from its single input
        to its single output, each node reading only the one before (through its first
        output) and every layer and op of the model on it; else None."""
        graph = self.graph
        outputs = graph.output_refs()
        if len(graph.inputs) != 1 or len(outputs) != 1 or outputs[0].tensor != 0:
            return None
        nodes = [n for n in graph.order if not n.is_input]
        previous = graph.inputs[0].node
        for node in nodes:
            refs = [ref for call in node.calls for ref in call.refs()]
            if len(node.calls) != 1 or [(r.node, r.call, r.tensor) for r in refs] != [
                (previous, 0, 0)
            ]:
                return None
            previous = node.name
        return nodes if previous == outputs[0].node else None

    def describe(self) -> str:
        """`LSTM(10) → Dense(8) → Dense(1)` for a chain (ops included: `Dense(1) →
        sigmoid`); a graph that branches reads like code:
        `lstm = LSTM(16)(input_layer); …; add = add(dense, get_item)`."""
        if self._graph is None:
            return " → ".join(layer.describe() for layer in self.layers) or "no layers"
        chain = self.chain()
        if chain is not None:
            return " → ".join(node.describe() for node in chain) or "no layers"
        path = {node.name for node in self.path_nodes()}
        parts = []
        for node in self.graph.order:
            if node.is_input:
                continue
            unused = "" if node.name in path else " (feeds no output)"
            parts.append(f"{node.name} = {node.describe()}({', '.join(node.sources)}){unused}")
        return "; ".join(parts)

    # -- the forward pass ------------------------------------------------------------

    def predict(self, X: Any) -> Any:
        """The model's output for X, computed with NumPy in float64 (Keras: float32), in
        Keras's structure: an array, or a list / dict of arrays for several outputs.

        X is an array, or a list (or dict by input name) of arrays for several inputs.
        Runs the graph (see the module docstring); anything it cannot run, or that is
        not Keras's own, raises UnsupportedModel naming it."""
        if not self.built:
            raise UnsupportedModel("the model is not built (it has no input shape)")
        graph = self.graph
        inputs = self._inputs(X, graph)
        needed = graph.ancestors(ref.node for ref in graph.output_refs())
        values: dict[tuple[str, int], tuple[np.ndarray, ...]] = {
            (name, 0): (x,) for name, x in inputs.items()
        }
        for node in graph.order:
            if node.name not in needed:
                continue
            if node.custom:
                raise UnsupportedModel(node.custom)
            for index, call in enumerate(node.calls):
                args = _resolve(call.args, values)
                kwargs = _resolve(call.kwargs, values)
                values[(node.name, index)] = _run_node(node, args, kwargs)
        outputs = graph.outputs
        if isinstance(outputs, list) and len(outputs) == 1:
            outputs = outputs[0]  # Keras unwraps a list of one output
        return _resolve(outputs, values)

    def _inputs(self, X: Any, graph: Graph) -> dict[str, np.ndarray]:
        names = [ref.node for ref in graph.inputs]
        if len(names) == 1 and isinstance(X, list | tuple) and len(X) == 1:
            given = list(X)  # Keras reads predict([X]) of a one-input model as predict(X)
        elif len(names) == 1 and not isinstance(X, dict):
            given = [X]
        elif isinstance(X, dict):
            keys = graph.input_keys or names
            missing = set(keys) - set(X)
            if missing:
                raise ValueError(f"predict is missing the inputs {sorted(missing)}")
            given = [X[key] for key in keys]
        elif isinstance(X, list | tuple) and len(X) == len(names):
            given = list(X)
        else:
            raise ValueError(f"the model has {len(names)} inputs ({', '.join(names)})")
        arrays = {}
        for name, value in zip(names, given, strict=True):
            x = np.asarray(value)
            if x.dtype.kind not in "biuf":
                raise ValueError(f"predict needs real numbers, not dtype {x.dtype}")
            arrays[name] = x.astype(float)
        # One input: its declared shape is known for certain (with several, the order
        # of input_shapes may not be the graph's, and each layer checks its own input).
        one = len(arrays) == 1 and self.input_shapes and len(self.input_shapes) == 1
        for (name, x), shape in zip(arrays.items(), self.input_shapes if one else [], strict=False):
            fits = len(shape) == x.ndim and all(
                want is None or want == got
                for want, got in zip(shape[1:], x.shape[1:], strict=True)
            )
            if not fits:
                wanted = "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"
                raise ValueError(
                    f"the model's input {name!r} is shaped {wanted}, but the data given to "
                    f"predict has shape {x.shape}"
                )
        return arrays


def _resolve(value: Any, values: dict[tuple[str, int], tuple[np.ndarray, ...]]) -> Any:
    """A call's arguments with each tensor replaced by its value."""
    if isinstance(value, Ref):
        outputs = values.get((value.node, value.call))
        if outputs is None:
            raise ModelDataError(f"malformed model data: {value.node!r} was never computed")
        if value.tensor >= len(outputs):
            raise ModelDataError(
                f"malformed model data: output {value.tensor} of {value.node!r} is read, but "
                f"it has {len(outputs)}"
            )
        return outputs[value.tensor]
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    return value


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


# -------------------------------------------------------- NumPy Keras semantics


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ through tanh: exact and overflow-free."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _leaky(x: np.ndarray, slope: float = 0.2) -> np.ndarray:
    return np.where(x >= 0, x, slope * x)


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
    "leaky_relu": _leaky,
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


# ---------------------------------------------------------------- layer runners

# Layers that pass their input through unchanged at inference (predict, training=False).
IDENTITY_LAYERS = frozenset(
    {
        "InputLayer",
        "Identity",
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
        "ActivityRegularization",
    }
)


def _refuse(layer: SavedLayer, what: str) -> UnsupportedModel:
    return UnsupportedModel(
        f"layer {layer.name!r} ({layer.class_name}) {what}, which the NumPy forward pass "
        "does not run"
    )


def _array(layer: SavedLayer, x: Any) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise _refuse(layer, "receives several tensors")
    return x


def _run_recurrent(layer: SavedLayer, x: Any, initial_state: Any = None) -> Any:
    cfg, w = layer.config, layer.weights
    x = _array(layer, x)
    if cfg.get("stateful"):
        raise _refuse(layer, "has stateful=True")
    if x.ndim != 3 or x.shape[2] != w["kernel"].shape[0]:
        raise ValueError(
            f"layer {layer.name!r} ({layer.class_name}) expects (batch, timesteps, "
            f"{w['kernel'].shape[0]}) but receives shape {x.shape}"
        )
    where = f"layer {layer.name!r}"
    act = activation(cfg.get("activation", "tanh"), where)
    common: dict[str, Any] = {
        "activation": act,
        "go_backwards": bool(cfg.get("go_backwards", False)),
    }
    states = [] if initial_state is None else list(initial_state)
    if not all(isinstance(state, np.ndarray) for state in states):
        raise _refuse(layer, "has an initial_state that is not tensors")
    wanted = 2 if layer.class_name == "LSTM" else 1
    if states and len(states) != wanted:
        raise ValueError(f"{where} needs {wanted} initial state tensors, got {len(states)}")
    args = (x, w["kernel"], w["recurrent_kernel"], w.get("bias"))
    if layer.class_name == "SimpleRNN":
        outputs, *final = keras_simple_rnn(*args, h0=states[0] if states else None, **common)
    else:
        common["recurrent_activation"] = activation(
            cfg.get("recurrent_activation", "sigmoid"), where
        )
        if layer.class_name == "LSTM":
            h0, c0 = states if states else (None, None)
            outputs, *final = keras_lstm(*args, h0=h0, c0=c0, **common)
        else:
            reset_after = bool(cfg.get("reset_after", True))
            h0 = states[0] if states else None
            outputs, *final = keras_gru(*args, reset_after=reset_after, h0=h0, **common)
    output = outputs if cfg.get("return_sequences", False) else outputs[:, -1]
    return [output, *final] if cfg.get("return_state") else output


def _run_dense(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    if layer.config.get("lora_rank"):
        raise _refuse(layer, "has a LoRA rank")
    kernel = layer.weights["kernel"]
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"layer {layer.name!r} (Dense) expects {kernel.shape[0]} features on the last "
            f"axis but receives shape {x.shape}"
        )
    y = x @ kernel + layer.weights.get("bias", 0.0)
    return activation(layer.config.get("activation"), f"layer {layer.name!r}")(y)


def _wrapped(layer: SavedLayer, role: str) -> SavedLayer:
    child = layer.wrapped.get(role)
    if child is None:
        raise ModelDataError(f"malformed model data: {layer.name!r} has no {role}")
    return child


def _run_bidirectional(layer: SavedLayer, x: Any, initial_state: Any = None) -> Any:
    """Keras's Bidirectional: the backward layer's sequence flipped back into time order,
    merged; with return_state the forward then the backward states follow. An
    initial_state list is split in half, forward first."""
    forward, backward = _wrapped(layer, "forward_layer"), _wrapped(layer, "backward_layer")
    states = list(initial_state or [])
    half = len(states) // 2
    y = run_layer(forward, x, initial_state=states[:half] or None)
    y_rev = run_layer(backward, x, initial_state=states[half:] or None)
    returns_state = bool(forward.config.get("return_state"))
    final: list[np.ndarray] = []
    if returns_state:
        final = [*y[1:], *y_rev[1:]]
        y, y_rev = y[0], y_rev[0]
    if forward.return_sequences:
        y_rev = y_rev[:, ::-1]  # Keras re-aligns the backward outputs with time
    mode = layer.merge_mode
    merged = {
        "concat": lambda: [np.concatenate([y, y_rev], axis=-1)],
        "sum": lambda: [y + y_rev],
        "ave": lambda: [(y + y_rev) / 2.0],
        "mul": lambda: [y * y_rev],
        None: lambda: [y, y_rev],
    }
    if mode not in merged:
        raise _refuse(layer, f"has merge_mode={mode!r}")
    outputs = merged[mode]() + final
    return outputs[0] if len(outputs) == 1 else outputs


def _run_time_distributed(layer: SavedLayer, x: Any) -> np.ndarray:
    inner = _wrapped(layer, "layer")
    x = _array(layer, x)
    batch, steps = x.shape[:2]
    y = run_layer(inner, x.reshape(batch * steps, *x.shape[2:]))
    return y.reshape(batch, steps, *y.shape[1:])


def _axes(layer: SavedLayer, ndim: int, default: Any = -1) -> tuple[int, ...]:
    axis = layer.config.get("axis", default)
    items = axis if isinstance(axis, list) else [axis]
    if not all(type(a) is int and -ndim <= a < ndim for a in items):
        raise _refuse(layer, f"normalises the axes {axis!r}")
    return tuple(sorted(a % ndim for a in items))


def _along(value: Any, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """A per-feature statistic shaped to broadcast along `axes` of x."""
    value = np.asarray(value, dtype=float)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    return value.reshape(shape) if value.size == math.prod(shape) else value


def _run_batch_norm(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    w, cfg = layer.weights, layer.config
    axes = _axes(layer, x.ndim)
    try:
        mean, var = w["moving_mean"], w["moving_variance"]
    except KeyError as exc:
        raise ModelDataError(f"malformed model data: {layer.name!r} has no {exc}") from None
    y = (x - _along(mean, x, axes)) / np.sqrt(
        _along(var, x, axes) + float(cfg.get("epsilon", 1e-3))
    )
    gamma = _along(w["gamma"], x, axes) if "gamma" in w else 1.0
    beta = _along(w["beta"], x, axes) if "beta" in w else 0.0
    return y * gamma + beta


def _run_layer_norm(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    cfg, w = layer.config, layer.weights
    if cfg.get("rms_scaling"):
        raise _refuse(layer, "uses rms_scaling")
    axes = _axes(layer, x.ndim)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
    gamma = _along(w["gamma"], x, axes) if "gamma" in w else 1.0
    beta = _along(w["beta"], x, axes) if "beta" in w else 0.0
    return y * gamma + beta


def _run_normalization(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    cfg, w = layer.config, layer.weights
    axis = cfg.get("axis", -1)
    axes = () if axis is None else _axes(layer, x.ndim)
    mean = w.get("mean", cfg.get("mean"))
    var = w.get("variance", cfg.get("variance"))
    if mean is None or var is None:
        raise _refuse(layer, "was never adapted (it has no mean or variance)")
    try:
        mean, var = _along(mean, x, axes), _along(var, x, axes)
    except (TypeError, ValueError):
        raise _refuse(layer, "has a mean or variance that does not fit its input") from None
    scale = np.maximum(np.sqrt(var), 1e-7)  # keras.backend.epsilon()
    return mean + x * scale if cfg.get("invert") else (x - mean) / scale


def _number(layer: SavedLayer, key: str, default: float) -> Any:
    value = layer.config.get(key, default)
    try:
        return np.asarray(default if value is None else value, dtype=float)
    except (TypeError, ValueError):
        raise _refuse(layer, f"has {key}={value!r}") from None


def _run_rescaling(layer: SavedLayer, x: Any) -> np.ndarray:
    return _array(layer, x) * _number(layer, "scale", 1.0) + _number(layer, "offset", 0.0)


def _run_relu_layer(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    slope = float(_number(layer, "negative_slope", 0.0))
    threshold = float(_number(layer, "threshold", 0.0))
    top = layer.config.get("max_value")
    y = np.where(x >= threshold, x, slope * (x - threshold))
    return y if top is None else np.minimum(y, float(_number(layer, "max_value", 0.0)))


def _run_merge(layer: SavedLayer, xs: Any) -> np.ndarray:
    if not isinstance(xs, list) or not all(isinstance(x, np.ndarray) for x in xs) or not xs:
        raise _refuse(layer, "is not called on a list of tensors")
    cls = layer.class_name
    if cls == "Concatenate":
        axis = layer.config.get("axis", -1)
        if type(axis) is not int:
            raise _refuse(layer, f"has axis={axis!r}")
        return np.concatenate(xs, axis=axis)
    if cls == "Subtract":
        if len(xs) != 2:
            raise ValueError(f"layer {layer.name!r} (Subtract) takes exactly two tensors")
        return xs[0] - xs[1]
    merged = {
        "Add": lambda: sum(xs[1:], xs[0]),
        "Multiply": lambda: math.prod(xs[1:], start=xs[0]),
        "Average": lambda: sum(xs[1:], xs[0]) / len(xs),
        "Maximum": lambda: np.maximum.reduce(np.broadcast_arrays(*xs)),
        "Minimum": lambda: np.minimum.reduce(np.broadcast_arrays(*xs)),
    }
    return merged[cls]()


def _run_pooling(layer: SavedLayer, x: Any) -> np.ndarray:
    x = _array(layer, x)
    if layer.config.get("data_format", "channels_last") not in ("channels_last", None):
        raise _refuse(layer, "pools channels_first data")
    if x.ndim != 3:
        raise ValueError(f"layer {layer.name!r} expects (batch, steps, features), got {x.shape}")
    reduce = np.mean if layer.class_name == "GlobalAveragePooling1D" else np.max
    return reduce(x, axis=1, keepdims=bool(layer.config.get("keepdims", False)))


def _shape_config(layer: SavedLayer, key: str) -> list[int]:
    value = layer.config.get(key)
    if not isinstance(value, list) or not all(type(d) is int for d in value):
        raise _refuse(layer, f"has {key}={value!r}")
    return value


def _run_permute(layer: SavedLayer, x: Any) -> np.ndarray:
    dims = _shape_config(layer, "dims")
    return np.transpose(_array(layer, x), (0, *dims))


def _run_repeat(layer: SavedLayer, x: Any) -> np.ndarray:
    n = layer.config.get("n")
    if type(n) is not int or n < 0:
        raise _refuse(layer, f"has n={n!r}")
    x = _array(layer, x)
    return np.repeat(x[:, None, :], n, axis=1)


def _run_softmax_layer(layer: SavedLayer, x: Any) -> np.ndarray:
    axis = layer.config.get("axis", -1)
    axes = tuple(axis) if isinstance(axis, list) else axis
    if not all(type(a) is int for a in (axes if isinstance(axes, tuple) else (axes,))):
        raise _refuse(layer, f"has axis={axis!r}")
    return _softmax(_array(layer, x), axes)


_RUNNERS: dict[str, Callable[..., Any]] = {
    "LSTM": _run_recurrent,
    "GRU": _run_recurrent,
    "SimpleRNN": _run_recurrent,
    "Dense": _run_dense,
    "Bidirectional": _run_bidirectional,
    "TimeDistributed": _run_time_distributed,
    "BatchNormalization": _run_batch_norm,
    "LayerNormalization": _run_layer_norm,
    "Normalization": _run_normalization,
    "Rescaling": _run_rescaling,
    "Flatten": lambda layer, x: _array(layer, x).reshape(len(x), -1),
    "Reshape": lambda layer, x: _array(layer, x).reshape(
        len(x), *_shape_config(layer, "target_shape")
    ),
    "Permute": _run_permute,
    "RepeatVector": _run_repeat,
    "Activation": lambda layer, x: activation(
        layer.config.get("activation"), f"layer {layer.name!r}"
    )(_array(layer, x)),
    "Softmax": _run_softmax_layer,
    "ReLU": _run_relu_layer,
    "LeakyReLU": lambda layer, x: _leaky(
        _array(layer, x), float(_number(layer, "negative_slope", 0.3))
    ),
    "ELU": lambda layer, x: _elu(_array(layer, x), float(_number(layer, "alpha", 1.0))),
    "GlobalAveragePooling1D": _run_pooling,
    "GlobalMaxPooling1D": _run_pooling,
    **dict.fromkeys(
        ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"),
        _run_merge,
    ),
}
_WEIGHTED = frozenset({"LSTM", "GRU", "SimpleRNN", "Dense"})


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _dtype_policy(dtype: Any) -> str | None:
    """A layer config's dtype policy name ("float32", "mixed_float16"), if it has one:
    Keras writes a string or a DTypePolicy's serialized form."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, dict):
        name = (
            (dtype.get("config") or {}).get("name")
            if isinstance(dtype.get("config"), dict)
            else None
        )
        return name if isinstance(name, str) else None
    return None


def run_layer(layer: SavedLayer, x: Any, **call: Any) -> Any:
    """One layer's output for x (an array; a list for merge layers), with Keras's
    inference semantics; `call` holds keyword arguments of the call (initial_state)."""
    if layer.custom is not None:
        raise UnsupportedModel(layer.custom)
    policy = _dtype_policy(layer.config.get("dtype"))
    if policy is not None and "16" in policy:
        raise _refuse(layer, f"computes in {policy} (its dtype policy)")
    if layer.class_name in IDENTITY_LAYERS:
        return _array(layer, x)
    runner = _RUNNERS.get(layer.class_name)
    if runner is None:
        if layer.class_name in KERAS_MODELS:
            raise UnsupportedModel(
                f"{layer.name!r} is a model used as a layer, which the NumPy forward pass "
                "does not run: build one model from the layers themselves"
            )
        raise UnsupportedModel(
            f"the NumPy forward pass cannot run {_article(layer.class_name)} {layer.class_name} "
            f"layer ({layer.name!r}); "
            f"it runs {', '.join(sorted(_RUNNERS))} and inference-identity layers "
            "such as Dropout"
        )
    if layer.class_name in _WEIGHTED and not layer.weight_list:
        raise UnsupportedModel(f"layer {layer.name!r} has no weights: it was never built")
    return runner(layer, x, **call)


def _run_node(node: Node, args: list, kwargs: dict) -> tuple[np.ndarray, ...]:
    """A node's outputs for one call, as a tuple (Keras's tensor indices)."""
    if node.is_op:
        result = _run_op(node, args, kwargs)
    else:
        layer = node.layer
        assert layer is not None
        if len(args) != 1:
            raise _refuse(layer, f"is called with {len(args)} positional arguments")
        call: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key == "training" and value:
                raise _refuse(
                    layer, "is called with training=True (dropout and noise stay on in predict)"
                )
            if key == "mask" and value is not None:
                raise _refuse(layer, "is called with a mask")
            if key == "initial_state" and value is not None:
                if layer.class_name not in (*_GATES, "Bidirectional"):
                    raise _refuse(layer, "is called with an initial_state")
                call["initial_state"] = value if isinstance(value, list) else [value]
            elif key not in ("training", "mask"):
                raise _refuse(layer, f"is called with {key}=")
        result = run_layer(layer, args[0], **call)
    outputs = tuple(result) if isinstance(result, list | tuple) else (result,)
    return tuple(np.asarray(output, dtype=float) for output in outputs)


# ---------------------------------------------------------------------- op nodes


def _op_refuse(node: Node, what: str) -> UnsupportedModel:
    return UnsupportedModel(
        f"{node.name!r} (keras.ops {_snake(node.class_name)}) {what}, which the NumPy forward "
        "pass does not run"
    )


def _operand(node: Node, value: Any) -> np.ndarray:
    """A tensor or a constant operand of an op."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, bool | int | float):
        return np.asarray(float(value))
    raise _op_refuse(node, f"has the operand {value!r:.60}")


def _op_int(node: Node, key: str, default: Any = None, *, optional: bool = False) -> Any:
    value = node.op_config.get(key, default)
    if value is None and optional:
        return None
    if isinstance(value, list) and all(type(v) is int for v in value):
        return tuple(value)
    if type(value) is not int:
        raise _op_refuse(node, f"has {key}={value!r}")
    return value


def _op_float(node: Node, key: str, default: float) -> float:
    value = node.op_config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _op_refuse(node, f"has {key}={value!r}")
    return float(value)


def _unary(function: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def run(node: Node, args: list) -> np.ndarray:
        if len(args) != 1:
            raise _op_refuse(node, f"has {len(args)} arguments")
        return function(_operand(node, args[0]))

    return run


def _unary_config(function: Callable[[Node, np.ndarray], np.ndarray]) -> Callable:
    def run(node: Node, args: list) -> np.ndarray:
        if len(args) != 1:
            raise _op_refuse(node, f"has {len(args)} arguments")
        return function(node, _operand(node, args[0]))

    return run


def _binary(function: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    def run(node: Node, args: list) -> np.ndarray:
        if len(args) != 2:
            raise _op_refuse(node, f"has {len(args)} arguments")
        return function(_operand(node, args[0]), _operand(node, args[1]))

    return run


def _reduction(function: Callable) -> Callable:
    def run(node: Node, args: list) -> np.ndarray:
        if len(args) != 1:
            raise _op_refuse(node, f"has {len(args)} arguments")
        if node.op_config.get("initial") is not None:
            raise _op_refuse(node, "has an initial value")
        axis = _op_int(node, "axis", optional=True)
        keepdims = bool(node.op_config.get("keepdims", False))
        return function(_operand(node, args[0]), axis=axis, keepdims=keepdims)

    return run


def _tensor_list(node: Node, args: list) -> list[np.ndarray]:
    if len(args) != 1 or not isinstance(args[0], list) or not args[0]:
        raise _op_refuse(node, "is not called on a list of tensors")
    return [_operand(node, item) for item in args[0]]


def _op_get_item(node: Node, args: list) -> np.ndarray:
    if len(args) != 2:
        raise _op_refuse(node, f"has {len(args)} arguments")
    x, key = _operand(node, args[0]), args[1]
    items = key if isinstance(key, list) else [key]
    for item in items:
        if not (item is None or item is Ellipsis or type(item) in (int, slice)):
            raise _op_refuse(node, f"indexes with {item!r:.60}")
    return x[tuple(items)]


def _gelu_op(node: Node, x: np.ndarray) -> np.ndarray:
    if node.op_config.get("approximate", True):
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return _gelu(x)


def _reshape_op(node: Node, args: list) -> np.ndarray:
    if len(args) != 1:
        raise _op_refuse(node, f"has {len(args)} arguments")
    shape = node.op_config.get("newshape")
    if not isinstance(shape, list) or not all(type(d) is int for d in shape):
        raise _op_refuse(node, f"has newshape={shape!r}")
    return _operand(node, args[0]).reshape(shape)


def _transpose_op(node: Node, args: list) -> np.ndarray:
    if len(args) != 1:
        raise _op_refuse(node, f"has {len(args)} arguments")
    axes = _op_int(node, "axes", optional=True)
    return np.transpose(_operand(node, args[0]), axes)


def _squeeze_op(node: Node, args: list) -> np.ndarray:
    if len(args) != 1:
        raise _op_refuse(node, f"has {len(args)} arguments")
    return np.squeeze(_operand(node, args[0]), axis=_op_int(node, "axis", optional=True))


# keras.ops as they appear in a functional config (class name → NumPy), with the
# settings their configs carry.
OPS: dict[str, Callable[[Node, list], np.ndarray]] = {
    "Add": _binary(np.add),
    "Subtract": _binary(np.subtract),
    "Multiply": _binary(np.multiply),
    "Divide": _binary(np.divide),
    "TrueDivide": _binary(np.divide),
    "Power": _binary(np.power),
    "Maximum": _binary(np.maximum),
    "Minimum": _binary(np.minimum),
    "Negative": _unary(np.negative),
    "Absolute": _unary(np.abs),
    "Abs": _unary(np.abs),
    "Square": _unary(np.square),
    "Sqrt": _unary(np.sqrt),
    "Exp": _unary(np.exp),
    "Log": _unary(np.log),
    "Log1p": _unary(np.log1p),
    "Expm1": _unary(np.expm1),
    "Sigmoid": _unary(sigmoid),
    "Tanh": _unary(np.tanh),
    "Relu": _unary(lambda x: np.maximum(x, 0.0)),
    "Relu6": _unary(lambda x: np.clip(x, 0.0, 6.0)),
    "Softplus": _unary(_softplus),
    "Softsign": _unary(lambda x: x / (1.0 + np.abs(x))),
    "Silu": _unary(lambda x: x * sigmoid(x)),
    "HardSigmoid": _unary(_hard_sigmoid),
    "HardSilu": _unary(lambda x: x * _hard_sigmoid(x)),
    "Selu": _unary(lambda x: 1.0507009873554805 * _elu(x, 1.6732632423543772)),
    "Elu": _unary_config(lambda node, x: _elu(x, _op_float(node, "alpha", 1.0))),
    "LeakyRelu": _unary_config(lambda node, x: _leaky(x, _op_float(node, "negative_slope", 0.2))),
    "Gelu": _unary_config(_gelu_op),
    "Softmax": _unary_config(lambda node, x: _softmax(x, _op_int(node, "axis", -1))),
    "LogSoftmax": _unary_config(lambda node, x: np.log(_softmax(x, _op_int(node, "axis", -1)))),
    "Clip": _unary_config(
        lambda node, x: np.clip(
            x, _op_float(node, "x_min", -math.inf), _op_float(node, "x_max", math.inf)
        )
    ),
    "Mean": _reduction(np.mean),
    "Sum": _reduction(np.sum),
    "Max": _reduction(np.max),
    "Min": _reduction(np.min),
    "GetItem": _op_get_item,
    "Concatenate": lambda node, args: np.concatenate(
        _tensor_list(node, args), axis=_op_int(node, "axis", 0)
    ),
    "Stack": lambda node, args: np.stack(_tensor_list(node, args), axis=_op_int(node, "axis", 0)),
    "Reshape": _reshape_op,
    "Transpose": _transpose_op,
    "Squeeze": _squeeze_op,
    "ExpandDims": _unary_config(lambda node, x: np.expand_dims(x, _op_int(node, "axis"))),
}


def _run_op(node: Node, args: list, kwargs: dict) -> np.ndarray:
    runner = OPS.get(node.class_name)
    if runner is None:
        raise UnsupportedModel(
            f"the NumPy forward pass cannot run keras.ops {_snake(node.class_name)} "
            f"({node.name!r}); it runs element-wise arithmetic and activations, slicing, "
            "concatenate, stack, reshape, transpose, squeeze, expand_dims, mean, sum, max, min"
        )
    if any(value is not None for value in kwargs.values()):
        raise _op_refuse(node, f"is called with {', '.join(sorted(kwargs))}=")
    with np.errstate(all="ignore"):
        return runner(node, args)
