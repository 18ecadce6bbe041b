"""Hidden checks for lesson 20: stacked, bidirectional LSTMs with dropout inside them.

The model is built once and inspected (output shapes, return_sequences flags, the
wrapper, dropout values, parameter counts); nothing is trained. It arrives as plain
data (`SavedModel`): these checks never import Keras.
"""

import functools

from workbook.expect import CheckFailure, fail, function
from workbook.kerascheck import learner_model, lstm_params

TIMESTEPS, FEATURES, DROPOUT = 20, 3, 0.2


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


def _recurrent(learner):
    """The first (bidirectional) and second LSTM layers, after structural sanity checks."""
    model = _model(learner)
    stack = [layer for layer in model.layers if "LSTM" in layer.kind]
    if len(stack) != 2:
        fail(f"expected two LSTM layers, found {len(stack)} ({model.describe()})")
    return model, stack[0], stack[1]


def test_model_builds(learner):
    """the stack builds: an LSTM that feeds another LSTM returns sequences"""
    model = _model(learner)
    if model.input_shape != (None, TIMESTEPS, FEATURES):
        fail(
            f"the model reads {model.input_shape}; expected (None, 20, 3): "
            "`Input(shape=(timesteps, features))`"
        )


def test_first_layer_bidirectional(learner):
    """layer 1 is Bidirectional(LSTM(32, return_sequences=True)) → (None, 20, 64)"""
    model, first, _ = _recurrent(learner)
    if model.layers[0].kind != first.kind:
        fail(f"the first layer should be the bidirectional LSTM ({model.describe()})")
    if first.kind == "LSTM":
        fail("the first LSTM is not wrapped: use `Bidirectional(LSTM(32, ...))`")
    if first.kind != "Bidirectional(LSTM)":
        fail(f"the first layer is {first.kind}; expected Bidirectional(LSTM)")
    inner = first.forward_layer
    if inner.units != 32:
        fail(f"the bidirectional LSTM has {inner.units} units per direction; expected 32")
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
    """dropout=0.2 and recurrent_dropout=0.2 inside both LSTMs"""
    model, first, second = _recurrent(learner)
    separate = [layer for layer in model.layers if layer.kind == "Dropout"]
    for name, lstm in (("bidirectional LSTM", first.forward_layer), ("second LSTM", second)):
        if lstm.recurrent_dropout == 0 and separate:
            fail(
                f"the {name} has no recurrent_dropout, and a separate Dropout layer cannot "
                "replace it: that layer only drops what flows between layers, never h_{t-1}; "
                "pass `recurrent_dropout=0.2` to the LSTM"
            )
        for attribute in ("dropout", "recurrent_dropout"):
            value = getattr(lstm, attribute)
            if abs(value - DROPOUT) > 1e-9:
                fail(
                    f"the {name} has {attribute}={value:g}; expected {DROPOUT:g}",
                    expected=DROPOUT,
                    got=value,
                )
    if separate:
        fail(
            "remove the separate Dropout layer: the dropout asked for lives inside the LSTMs "
            f"({model.describe()})"
        )


def test_dense_head(learner):
    """the model ends in Dense(1) → (None, 1) and is compiled with mse"""
    model = _model(learner)
    last = model.layers[-1]
    if last.kind != "Dense" or last.units != 1:
        fail(f"the model should end in Dense(1) ({model.describe()})")
    if model.output_shape != (None, 1):
        fail(f"the model outputs {model.output_shape}; expected (None, 1)")
    if model.optimizer is None:
        fail('the model is not compiled: `model.compile(loss="mse", optimizer="adam")`')
