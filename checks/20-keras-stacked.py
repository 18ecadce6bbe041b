"""Hidden checks for lesson 20: stacked, bidirectional LSTMs with dropout inside them.

The model is built once and inspected (how the layers connect, output shapes,
return_sequences flags, the wrapper and both its directions, dropout values,
parameter counts, loss and optimizer); nothing is trained. It arrives as plain data
(`SavedModel`, whose graph says which layer reads which): these checks never import
Keras. The recurrent layers are the ones on the path from input to output, in the
order data flows through them; a Bidirectional counts with both its directions.
"""

import functools
import itertools

from workbook.grading.judge.expect import CheckFailure, fail, function
from workbook.grading.judge.kerascheck import (
    chain,
    describe,
    is_mse,
    learner_model,
    lstm_params,
    path_layers,
    recurrent_lstms,
)

TIMESTEPS, FEATURES, DROPOUT = 20, 3, 0.2
# A second size for the builder, so that the input shape cannot be hard-coded.
OTHER_TIMESTEPS, OTHER_FEATURES = 7, 2
STACK = "Input → Bidirectional(LSTM(32)) → LSTM(16) → Dense(1)"


@functools.cache
def _build(learner):
    """The learner's model, or the CheckFailure that explains why it would not build."""
    function(learner, "build_stacked")
    try:
        return learner_model(learner, "build_stacked", TIMESTEPS, FEATURES)
    except ValueError as exc:
        if "ndim=3" in str(exc) and "ndim=2" in str(exc):
            return CheckFailure(
                'Keras could not stack the layers ("expected ndim=3, found ndim=2"): an LSTM '
                "that feeds another LSTM must pass on every time step; give it "
                "`return_sequences=True`"
            )
        raise


def _model(learner):
    model = _build(learner)
    if isinstance(model, CheckFailure):
        raise model
    return model


def _pruned_hint(model) -> str:
    """Keras leaves out of a functional model every layer that leads to no output."""
    if model.class_name not in ("Functional", "Model"):
        return ""
    return (
        "; Keras keeps in a functional model only the layers that lead to its output, so "
        "a Bidirectional layer whose output nothing reads is left out: pass its output on "
        "to the LSTM(16)"
    )


def _recurrent(learner):
    """The two recurrent layers on the path from input to output, in the order data
    flows through them (each an LSTM or a Bidirectional(LSTM))."""
    model = _model(learner)
    stack = [layer for layer in path_layers(model) if recurrent_lstms(layer)]
    if len(stack) != 2:
        hint = _pruned_hint(model) if len(stack) == 1 else ""
        fail(f"expected two LSTM layers, found {len(stack)} ({describe(model)}){hint}")
    first, second = stack
    if not _connected(model, first, second) and second.kind.startswith("Bidirectional"):
        first, second = second, first  # side by side, not stacked: the stack check says so
    return model, first, second


def _connected(model, first, second) -> bool:
    """Whether the first layer's output reaches the second (or the graph is unknown)."""
    try:
        return model.feeds(first, second)
    except Exception:  # no graph to read: keep the layers' own order
        return True


def test_model_builds(learner):
    """the stack builds at any (timesteps, features); an LSTM feeding an LSTM returns sequences"""
    model = _model(learner)
    if model.input_shape != (None, TIMESTEPS, FEATURES):
        fail(
            f"the model reads {model.input_shape}; expected (None, 20, 3): "
            "`Input(shape=(timesteps, features))`"
        )
    layers = path_layers(model)
    for before, after in itertools.pairwise(layers):
        if recurrent_lstms(before) and recurrent_lstms(after) and not before.return_sequences:
            fail(
                f"{before.describe()} feeds {after.describe()} but returns only its last "
                "state: an LSTM that feeds another LSTM must pass on every time step; give "
                "it `return_sequences=True`"
            )
    _follows_its_parameters(learner)


def _follows_its_parameters(learner) -> None:
    """build_stacked(7, 2) reads (None, 7, 2): the shape comes from its parameters."""
    call = f"build_stacked(timesteps={OTHER_TIMESTEPS}, features={OTHER_FEATURES})"
    try:
        other = learner_model(learner, "build_stacked", OTHER_TIMESTEPS, OTHER_FEATURES)
    except ValueError as exc:
        fail(
            f"{call} raised ValueError ({exc}): the builder should work for any timesteps "
            "and features; build the input from them, `Input(shape=(timesteps, features))`"
        )
    if other.input_shape != (None, OTHER_TIMESTEPS, OTHER_FEATURES):
        fail(
            f"{call} builds a model that reads {other.input_shape}, not "
            f"(None, {OTHER_TIMESTEPS}, {OTHER_FEATURES}): the input shape is hard-coded; "
            "build it from the parameters, `Input(shape=(timesteps, features))`",
            expected=(None, OTHER_TIMESTEPS, OTHER_FEATURES),
            got=other.input_shape,
        )


def _reads_input(model, layer) -> bool:
    try:
        node = model.node(layer.name)
        inputs = {n.name for n in model.input_nodes}
    except Exception:  # no graph: the stack check says why
        return False
    return bool(set(node.sources) & inputs)


def test_layers_are_stacked(learner):
    """the layers form one stack, each reading the one before: Input →
    Bidirectional(LSTM(32)) → LSTM(16) → Dense(1)"""
    model, first, second = _recurrent(learner)
    if chain(model) is not None:
        return
    if _reads_input(model, first) and _reads_input(model, second):
        fail(
            f"both recurrent layers, {first.describe()} and {second.describe()}, read the "
            f"model's input: nothing is stacked ({describe(model)}). The LSTM(16) reads the "
            "bidirectional layer's output: `x = Bidirectional(...)(inputs)`, then "
            "`x = LSTM(16, ...)(x)`"
        )
    if _reads_input(model, second):
        fail(
            f"the second LSTM ({second.describe()}) reads the model's input, not the output "
            f"of {first.describe()}: nothing is stacked ({describe(model)}). Pass the "
            "bidirectional layer's output on: `x = Bidirectional(...)(inputs)`, then "
            "`x = LSTM(16, ...)(x)`"
        )
    fail(
        f"the layers do not form one stack ({describe(model)}): each layer reads the output "
        f"of the one before, {STACK}"
    )


def _directions(layer):
    """Both directions of a Bidirectional, each an LSTM (a failure otherwise)."""
    found = dict(recurrent_lstms(layer))
    for role in ("forward", "backward"):
        if role not in found:
            fail(f"the bidirectional layer's {role} direction is not an LSTM")
    return found["forward"], found["backward"]


def test_first_layer_bidirectional(learner):
    """layer 1 is Bidirectional(LSTM(32, return_sequences=True)) → (None, 20, 64), 32
    units in each direction"""
    _, first, second = _recurrent(learner)
    if first.kind == "LSTM":
        if second.kind.startswith("Bidirectional"):
            fail(
                "the Bidirectional wrapper is on the second LSTM; the lesson wraps the first "
                "one: `Bidirectional(LSTM(32, return_sequences=True, ...))`, then a plain "
                "`LSTM(16, ...)`"
            )
        fail("the first LSTM is not wrapped: use `Bidirectional(LSTM(32, ...))`")
    if first.kind != "Bidirectional(LSTM)":
        fail(f"the first layer is {first.kind}; expected Bidirectional(LSTM)")
    for role, inner in zip(("forward", "backward"), _directions(first), strict=True):
        if inner.units != 32:
            fail(
                f"the bidirectional LSTM's {role} direction has {inner.units} units; "
                "expected 32 in each direction"
            )
    if first.merge_mode != "concat":
        fail(f"keep Bidirectional's default merge_mode 'concat' (got {first.merge_mode!r})")
    shape = first.output_shape
    if shape != (None, TIMESTEPS, 64):
        fail(
            f"the bidirectional layer outputs {shape}; expected (None, 20, 64): both "
            "directions, every time step",
            expected=(None, TIMESTEPS, 64),
            got=shape,
        )
    wanted = 2 * lstm_params(32, FEATURES)
    if first.count_params() != wanted:
        fail(f"the bidirectional layer has {first.count_params()} parameters; expected {wanted}")


def test_second_layer_last_state(learner):
    """layer 2 is LSTM(16) returning only its last state → (None, 16)"""
    _, _, second = _recurrent(learner)
    if second.kind != "LSTM":
        fail(f"the second recurrent layer is {second.kind}; expected a plain LSTM(16)")
    if second.units != 16:
        fail(f"the second LSTM has {second.units} units; expected 16")
    if second.return_sequences:
        fail(
            f"the last LSTM also returns sequences, so it outputs {second.output_shape} and the "
            "Dense head would predict one value per time step; only LSTMs that feed "
            "another LSTM need `return_sequences=True`",
            expected=(None, 16),
            got=second.output_shape,
        )
    if second.output_shape != (None, 16):
        fail(f"the second LSTM outputs {second.output_shape}; expected (None, 16)")


def test_dropout_inside_lstms(learner):
    """dropout=0.2 and recurrent_dropout=0.2 inside both LSTMs (both directions of the
    Bidirectional included)"""
    model, first, second = _recurrent(learner)
    separate = [layer for layer in model.layers if layer.kind == "Dropout"]
    lstms = [
        (f"{role} direction of the bidirectional LSTM" if role else "first LSTM", lstm)
        for role, lstm in recurrent_lstms(first)
    ]
    lstms += [
        (f"{role} direction of the second LSTM" if role else "second LSTM", lstm)
        for role, lstm in recurrent_lstms(second)
    ]
    for name, lstm in lstms:
        if lstm.recurrent_dropout == 0 and separate:
            fail(
                f"the {name} has no recurrent_dropout, and a separate Dropout layer cannot "
                "replace it: that layer only drops what flows between layers, never h_{t-1}; "
                "pass `recurrent_dropout=0.2` to the LSTM"
            )
        for attribute in ("dropout", "recurrent_dropout"):
            value = getattr(lstm, attribute)
            if abs(value - DROPOUT) > 1e-9:
                explicit = (
                    " (an explicit `backward_layer` needs its own dropout arguments)"
                    if name.startswith("backward")
                    else ""
                )
                fail(
                    f"the {name} has {attribute}={value:g}; expected {DROPOUT:g}{explicit}",
                    expected=DROPOUT,
                    got=value,
                )
    if separate:
        fail(
            "remove the separate Dropout layer: the dropout asked for lives inside the LSTMs "
            f"({describe(model)})"
        )


def test_dense_head(learner):
    """the model ends in Dense(1) → (None, 1) and is compiled with loss mse and Adam"""
    model = _model(learner)
    outputs = len(model.output_shapes or [])
    if outputs > 1:
        fail(
            f"the model has {outputs} outputs ({describe(model)}); it should have one, the "
            "Dense(1) head: `Model(inputs, outputs)` with the Dense(1) layer's output"
        )
    layers = path_layers(model)
    last = layers[-1] if layers else None
    if last is None or last.kind != "Dense" or last.units != 1:
        fail(f"the model should end in Dense(1) ({describe(model)})")
    if model.output_shape != (None, 1):
        fail(f"the model outputs {model.output_shape}; expected (None, 1)")
    if model.optimizer is None or not model.compiled:
        fail('the model is not compiled: `model.compile(loss="mse", optimizer="adam")`')
    if not is_mse(model.loss):
        fail(
            f"the model is compiled with the loss {model.loss!r}; the lesson asks for mean "
            'squared error: `model.compile(loss="mse", optimizer="adam")`',
            expected="mse",
            got=model.loss,
        )
    if model.optimizer != "Adam":
        fail(
            f"the model is compiled with the optimizer {model.optimizer}; the lesson asks "
            'for Adam: `model.compile(loss="mse", optimizer="adam")`',
            expected="Adam",
            got=model.optimizer,
        )
