"""Real Keras as the oracle for the judge's view of a model.

A catalogue of models a learner plausibly writes (and some they should not), each
built in real Keras with seeded random weights, sent the way grading sends it
(`to_plain` in the subject's encoder, `wire.encode`, JSON, `wire.decode` into a
`SavedModel`), then run on a fixed input. The judge either predicts what Keras
predicts, to 1e-5 and in the same structure (one array, a list, a dict), or refuses
with a sentence (`UnsupportedModel`, `ModelDataError`) that names what it cannot run.
Nothing in between: a wrong number is never an answer.

Skipped only where TensorFlow is not installed (CI installs it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from workbook.grading import wire
from workbook.grading.judge.keras_model import (
    ModelDataError,
    SavedModel,
    UnsupportedModel,
    to_plain,
)

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
BATCH = 3


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def through_the_wire(model: Any) -> SavedModel:
    """The model as the judge receives it from the subject."""
    head, buffers = wire.encode({}, to_plain, model=model)
    header = json.loads(head)  # the bytes the socket carries
    saved = wire.decode(header["model"], buffers, SavedModel)
    assert isinstance(saved, SavedModel), saved
    return saved


def randomize(model: Any, seed: int = 0) -> None:
    """Random trainable weights (biases included), so no term hides behind a zero, and
    random BatchNormalization statistics (variances positive). Normalization's adapted
    statistics stay: Keras reads them from copies made when `adapt` finished."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            value = rng.uniform(0.5, 2.0, size=shape)
        elif variable.trainable or "moving_mean" in variable.path:
            value = rng.normal(scale=0.5, size=shape)
        else:
            continue
        variable.assign(value.astype(variable.dtype))


def sample_inputs(model: Any) -> Any:
    rng = np.random.default_rng(1)
    inputs = getattr(model, "inputs", None)  # a subclassed model has none
    shapes = [tuple(t.shape) for t in inputs] if inputs else [(None, 5, 2)]
    arrays = [
        rng.normal(size=[BATCH if d is None else d for d in shape]).astype("float32")
        for shape in shapes
    ]
    return arrays[0] if len(arrays) == 1 else arrays


def keras_output(model: Any, X: Any) -> Any:
    out = model(X, training=False)
    if isinstance(out, dict):
        return {key: np.asarray(value) for key, value in out.items()}
    if isinstance(out, list | tuple):
        return [np.asarray(value) for value in out]
    return np.asarray(out)


def assert_same(got: Any, expected: Any, where: str = "output") -> None:
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), (where, got)
        for key in expected:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), (where, type(got))
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert isinstance(got, np.ndarray), (where, type(got))
        assert got.shape == expected.shape, (where, got.shape, expected.shape)
        np.testing.assert_allclose(got, expected, err_msg=where, **TOLERANCE)


# ------------------------------------------------------------------ the catalogue


def _seq(keras, shape, *layers):
    return keras.Sequential([keras.Input(shape), *layers])


def _fn(keras, shape, body: Callable) -> Any:
    inputs = keras.Input(shape)
    return keras.Model(inputs, body(keras.layers, keras.ops, inputs))


def lstm_options(keras):
    L = keras.layers
    return _seq(
        keras,
        (6, 3),
        L.LSTM(5, return_sequences=True, go_backwards=True, use_bias=False),
        L.LSTM(4, activation="relu", recurrent_activation="hard_sigmoid"),
        L.Dense(2),
    )


def gru_options(keras):
    L = keras.layers
    return _seq(
        keras,
        (6, 3),
        L.GRU(4, return_sequences=True, reset_after=False, activation="softsign"),
        L.GRU(3, go_backwards=True, use_bias=False),
        L.Dense(1, activation="sigmoid"),
    )


def simple_rnn_options(keras):
    L = keras.layers
    return _seq(
        keras,
        (6, 3),
        L.SimpleRNN(4, return_sequences=True, activation="relu"),
        L.SimpleRNN(3, go_backwards=True),
        L.Dense(1),
    )


def bidirectional_modes(keras):
    L = keras.layers
    return _seq(
        keras,
        (5, 2),
        L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"),
        L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave"),
        L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode="mul"),
        L.Bidirectional(L.LSTM(2)),
        L.Dense(1),
    )


def bidirectional_no_merge(keras):
    def body(L, ops, x):
        forward, backward = L.Bidirectional(L.LSTM(3), merge_mode=None)(x)
        return L.Dense(1)(forward - backward)

    return _fn(keras, (5, 2), body)


def bidirectional_states(keras):
    def body(L, ops, x):
        seq, *states = L.Bidirectional(L.LSTM(3, return_sequences=True, return_state=True))(x)
        out, h_forward, h_backward = L.Bidirectional(L.GRU(3, return_state=True), merge_mode="sum")(
            seq
        )
        again = L.Bidirectional(L.LSTM(3))(seq, initial_state=states)
        return L.Dense(1)(L.Concatenate()([out, h_forward - h_backward, again]))

    return _fn(keras, (5, 2), body)


def time_distributed(keras):
    L = keras.layers
    return _seq(
        keras,
        (5, 2),
        L.LSTM(4, return_sequences=True),
        L.TimeDistributed(L.Dense(3, activation="tanh")),
        L.Flatten(),
        L.Dense(1),
    )


def stacked_with_dropout(keras):
    L = keras.layers
    return _seq(
        keras,
        (20, 3),
        L.Bidirectional(L.LSTM(8, return_sequences=True, dropout=0.2, recurrent_dropout=0.2)),
        L.Dropout(0.3),
        L.LSTM(4, dropout=0.2, recurrent_dropout=0.2),
        L.Dense(1),
    )


def sigmoid_after_dense(keras):
    return _fn(keras, (3, 1), lambda L, ops, x: ops.sigmoid(L.Dense(1)(L.LSTM(10)(x))))


def residual_last_step(keras):
    return _fn(keras, (5, 2), lambda L, ops, x: L.Dense(2)(L.LSTM(8)(x)) + x[:, -1, :])


def residual_add_layer(keras):
    return _fn(keras, (5, 2), lambda L, ops, x: L.Add()([L.Dense(2)(L.LSTM(8)(x)), x[:, -1]]))


def concatenated_branches(keras):
    def body(L, ops, x):
        a = L.LSTM(4)(x)
        b = L.GRU(3)(x)
        merged = L.Concatenate()([a, b, ops.mean(x, axis=1)])
        return L.Dense(1)(ops.concatenate([merged, ops.max(x, axis=1)], axis=-1))

    return _fn(keras, (5, 2), body)


def multi_output_list(keras):
    def body(L, ops, x):
        h = L.LSTM(4)(x)
        return [L.Dense(1)(h), L.Dense(2, activation="softmax")(h)]

    return _fn(keras, (5, 2), body)


def multi_output_dict(keras):
    def body(L, ops, x):
        h = L.GRU(4)(x)
        return {"value": L.Dense(1)(h), "probability": ops.sigmoid(L.Dense(1)(h))}

    return _fn(keras, (5, 2), body)


def single_output_in_a_list(keras):
    return _fn(keras, (5, 2), lambda L, ops, x: [L.Dense(1)(L.LSTM(3)(x))])


def rescaling(keras):
    L = keras.layers
    return _seq(keras, (5, 1), L.Rescaling(1 / 30.0, offset=-0.5), L.LSTM(4), L.Dense(1))


def normalization_adapted(keras):
    L = keras.layers
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(2).normal(3.0, 2.0, size=(50, 5, 2)).astype("float32"))
    model = _seq(keras, (5, 2), norm, L.LSTM(4), L.Dense(1))
    model.compile(loss="mse", optimizer="adam")
    return model


def normalization_given(keras):
    L = keras.layers

    def body(_, ops, x):
        scaled = L.Normalization(mean=[1.0, -2.0], variance=[4.0, 0.25])(x)
        y = L.Dense(2)(L.LSTM(4)(scaled))
        return L.Normalization(mean=[1.0, -2.0], variance=[4.0, 0.25], invert=True)(y)

    return _fn(keras, (5, 2), body)


def unused_bidirectional(keras):
    """Lesson 20's wiring mistake: the second LSTM reads the input, not the BiLSTM.
    (Keras drops a layer that feeds no output from the model altogether.)"""

    def body(L, ops, x):
        L.Bidirectional(L.LSTM(8, return_sequences=True))(x)
        return L.Dense(1)(L.LSTM(4)(x))

    return _fn(keras, (20, 3), body)


def bidirectional_as_second_output(keras):
    """The same mistake kept in the model: the BiLSTM is a second output, and the
    first (the forecast) does not depend on its weights."""

    def body(L, ops, x):
        stacked = L.Bidirectional(L.LSTM(8, return_sequences=True))(x)
        return [L.Dense(1)(L.LSTM(4)(x)), stacked]

    return _fn(keras, (20, 3), body)


def states_between_layers(keras):
    def body(L, ops, x):
        seq, h, c = L.LSTM(4, return_sequences=True, return_state=True)(x)
        out, h2 = L.GRU(4, return_state=True)(seq, initial_state=h)
        y = L.LSTM(4)(seq, initial_state=[h2, c])
        return L.Dense(1)(L.Concatenate()([out, y]))

    return _fn(keras, (5, 2), body)


def shared_layer(keras):
    def body(L, ops, x):
        dense = L.Dense(3)
        return dense(x[:, 0]) + dense(ops.tanh(x[:, -1]))

    return _fn(keras, (5, 2), body)


def ops_zoo(keras):
    def body(L, ops, x):
        h = L.LSTM(4, return_sequences=True)(x)
        parts = [
            ops.softmax(h, axis=1)[:, -1],
            ops.gelu(h[:, 0]),
            ops.leaky_relu(h[:, 1], 0.3),
            ops.clip(h[:, 2], -0.2, 0.2),
            ops.squeeze(ops.expand_dims(h[:, 3], 1), axis=1),
            ops.transpose(h, (0, 2, 1))[:, :, -1],
            ops.reshape(h[:, :2], (-1, 8))[:, ::2],
            ops.sum(h, axis=1) / 5.0,
            ops.min(h, axis=1),
            ops.stack([h[:, 0], h[:, -1]], axis=1)[:, 1],
            ops.exp(-ops.square(h[..., -1, :])),
            ops.log(1.0 + ops.abs(h[:, -1])) ** 2,
            ops.sqrt(ops.abs(h[:, 0])) * 2 - 1.0,
            ops.maximum(h[:, 0], 0.1) + ops.minimum(h[:, 1], h[:, 2]),
            -ops.silu(h[:, -1]) + ops.elu(h[:, 0]) + ops.selu(h[:, 1]),
            ops.relu(h[:, 0]) + ops.relu6(h[:, 1] * 10) + ops.softplus(h[:, 2]),
            ops.hard_sigmoid(h[:, 0]) + ops.softsign(h[:, 1]) + ops.log_softmax(h[:, 2]),
            h[:, -1] + np.array([1.0, 2.0, 3.0, 4.0], dtype="float32"),
            h[:, 0] * ops.convert_to_tensor([1.0, -1.0, 0.5, 2.0]),
        ]
        return L.Dense(1)(ops.concatenate(parts, axis=-1))

    return _fn(keras, (5, 2), body)


def normalisation_layers(keras):
    L = keras.layers
    return _seq(
        keras,
        (5, 3),
        L.BatchNormalization(),
        L.LSTM(4, return_sequences=True),
        L.LayerNormalization(),
        L.GlobalAveragePooling1D(),
        L.Dense(2),
    )


def normalisation_axes(keras):
    L = keras.layers
    return _seq(
        keras,
        (5, 3),
        L.BatchNormalization(axis=1),
        L.LayerNormalization(axis=[1, 2], center=False),
        L.LSTM(4),
        L.LayerNormalization(scale=False, epsilon=0.1),
        L.Dense(1),
    )


def reshaping_layers(keras):
    L = keras.layers
    return _seq(
        keras,
        (6, 2),
        L.Permute((2, 1)),
        L.Reshape((3, 4)),
        L.LSTM(3),
        L.RepeatVector(2),
        L.GlobalMaxPooling1D(),
        L.Dense(1),
    )


def activation_layers(keras):
    L = keras.layers
    return _seq(
        keras,
        (4,),
        L.Dense(5),
        L.ReLU(max_value=0.5, negative_slope=0.1),
        L.Dense(5),
        L.LeakyReLU(negative_slope=0.2),
        L.Dense(5),
        L.ELU(alpha=0.7),
        L.Dense(5),
        L.Softmax(),
        L.Dense(3),
        L.Activation("tanh"),
    )


def activation_as_ops_function(keras):
    L = keras.layers
    return _seq(keras, (5, 2), L.LSTM(3), L.Dense(2, activation=keras.ops.sigmoid))


def activation_as_keras_function(keras):
    L = keras.layers
    return _seq(keras, (5, 2), L.GRU(3, activation=keras.activations.relu), L.Dense(1))


def two_inputs(keras):
    L = keras.layers
    series = keras.Input((5, 2))
    extra = keras.Input((3,))
    merged = L.Concatenate()([L.LSTM(4)(series), extra])
    return keras.Model([series, extra], L.Dense(1)(merged))


def lesson_references(lesson_id: str, builder: str):
    def build(keras):
        from tests.keras_fake_learner import REPO, load_module

        path = REPO / "course" / "solutions" / f"{lesson_id}.py"
        return getattr(load_module(path), builder)()

    return build


# -- refused: not Keras's own, or not runnable without Keras ----------------------


def custom_dense_named_dense(keras):
    class Dense(keras.layers.Dense):
        def call(self, inputs):
            return keras.ops.tanh(super().call(inputs))

    return _seq(keras, (3, 1), keras.layers.LSTM(10), Dense(1))


def custom_posing_as_keras(keras):
    """A subclass that claims Keras's module and name: its methods give it away."""

    class Dense(keras.layers.Dense):
        def call(self, inputs):
            return keras.ops.tanh(super().call(inputs))

    Dense.__module__ = "keras.src.layers.core.dense"
    Dense.__qualname__ = "Dense"
    return _seq(keras, (3, 1), keras.layers.LSTM(10), Dense(1))


def custom_activation_named_linear(keras):
    def linear(x):
        return keras.ops.sigmoid(x)

    return _seq(keras, (3, 1), keras.layers.LSTM(10), keras.layers.Dense(1, activation=linear))


def activation_posing_as_keras(keras):
    def linear(x):
        return keras.ops.sigmoid(x)

    linear.__module__ = "keras.src.activations.activations"
    linear.__qualname__ = "linear"
    return _seq(keras, (3, 1), keras.layers.LSTM(10), keras.layers.Dense(1, activation=linear))


def custom_recurrent_activation(keras):
    def sigmoid(x):
        return keras.ops.tanh(x)

    L = keras.layers
    return _seq(keras, (3, 1), L.LSTM(4, recurrent_activation=sigmoid), L.Dense(1))


def lambda_layer(keras):
    return _fn(keras, (5, 2), lambda L, ops, x: L.Dense(1)(L.Lambda(lambda t: t[:, -1])(x)))


def registered_custom_layer(keras):
    @keras.saving.register_keras_serializable(package="learner")
    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    return _seq(keras, (5, 2), keras.layers.LSTM(3), Doubling(), keras.layers.Dense(1))


def custom_wrapped_layer(keras):
    class Dense(keras.layers.Dense):
        pass

    L = keras.layers
    return _seq(keras, (5, 2), L.LSTM(3, return_sequences=True), L.TimeDistributed(Dense(1)))


def conv_layer(keras):
    L = keras.layers
    return _seq(keras, (5, 2), L.Conv1D(2, 3), L.Flatten(), L.Dense(1))


def dropout_in_training_mode(keras):
    def body(L, ops, x):
        return L.Dense(1)(L.Dropout(0.5)(L.LSTM(3)(x), training=True))

    return _fn(keras, (5, 2), body)


def masking(keras):
    L = keras.layers
    return _seq(keras, (5, 2), L.Masking(0.0), L.LSTM(3), L.Dense(1))


def nested_model(keras):
    inner = _seq(keras, (5, 2), keras.layers.LSTM(3))
    return _fn(keras, (5, 2), lambda L, ops, x: L.Dense(1)(inner(x)))


def subclassed_model(keras):
    class Forecaster(keras.Model):
        def __init__(self):
            super().__init__()
            self.lstm = keras.layers.LSTM(3)
            self.head = keras.layers.Dense(1)

        def call(self, inputs):
            return self.head(self.lstm(inputs))

    model = Forecaster()
    model(np.zeros((1, 5, 2), dtype="float32"))
    return model


def custom_operation(keras):
    class Twice(keras.Operation):
        def call(self, x):
            return x * 2.0

        def compute_output_spec(self, x):
            return keras.KerasTensor(x.shape, x.dtype)

    return _fn(keras, (5, 2), lambda L, ops, x: L.Dense(1)(Twice()(L.LSTM(3)(x))))


def unsupported_op(keras):
    return _fn(keras, (5, 2), lambda L, ops, x: L.Dense(1)(ops.cumsum(L.LSTM(3)(x), axis=-1)))


CATALOGUE: dict[str, tuple[Callable, str | None]] = {
    # name: (builder, None when the judge must match Keras, else the refusal's pattern)
    "LSTM: sequences, go_backwards, no bias, activations": (lstm_options, None),
    "GRU: reset_after False, go_backwards, no bias": (gru_options, None),
    "SimpleRNN: relu, go_backwards": (simple_rnn_options, None),
    "Bidirectional: sum, ave, mul, concat": (bidirectional_modes, None),
    "Bidirectional: merge_mode None, two outputs": (bidirectional_no_merge, None),
    "Bidirectional: return_state, initial_state": (
        bidirectional_states,
        None,
    ),
    "TimeDistributed Dense": (time_distributed, None),
    "stacked LSTMs with dropout": (stacked_with_dropout, None),
    "sigmoid op after Dense (lesson 17)": (sigmoid_after_dense, None),
    "residual: Dense(LSTM(x)) + x[:, -1, :]": (residual_last_step, None),
    "residual: Add layer": (residual_add_layer, None),
    "concatenated branches": (concatenated_branches, None),
    "multi-output list": (multi_output_list, None),
    "multi-output dict": (multi_output_dict, None),
    "one output in a list": (single_output_in_a_list, None),
    "Rescaling": (rescaling, None),
    "Normalization adapted": (normalization_adapted, None),
    "Normalization given, and inverted": (normalization_given, None),
    "a layer that feeds no output (lesson 20)": (unused_bidirectional, None),
    "a layer that feeds only a second output": (bidirectional_as_second_output, None),
    "return_state and initial_state": (states_between_layers, None),
    "a layer called twice": (shared_layer, None),
    "keras.ops zoo": (ops_zoo, None),
    "BatchNormalization, LayerNormalization, pooling": (normalisation_layers, None),
    "normalisation along other axes": (normalisation_axes, None),
    "Permute, Reshape, RepeatVector": (reshaping_layers, None),
    "activation layers": (activation_layers, None),
    "keras.ops.sigmoid as an activation": (activation_as_ops_function, None),
    "keras.activations.relu as an activation": (activation_as_keras_function, None),
    "two inputs": (two_inputs, None),
    "lesson 17 reference": (lesson_references("17-keras-model-edits", "build_model"), None),
    "lesson 18 reference": (lesson_references("18-keras-predict-next", "build_model"), None),
    "lesson 20 reference": (lesson_references("20-keras-stacked", "build_stacked"), None),
    "lesson 21 reference": (lesson_references("21-keras-forecast", "build_forecaster"), None),
    "a Dense subclass named Dense": (
        custom_dense_named_dense,
        r"'dense\w*' is a custom layer \(class .*<locals>\.Dense from tests\.test_keras_oracle; "
        r"its call defined outside Keras\), which cannot be graded here: use keras\.layers\.Dense",
    ),
    "a subclass posing as keras.layers.Dense": (
        custom_posing_as_keras,
        r"is a custom layer \(class Dense, which claims keras\.src\.layers\.core\.dense but "
        r"is not found there; its call defined outside Keras\)",
    ),
    "an activation function named linear": (
        custom_activation_named_linear,
        r"activation is a custom function \(.*linear from tests\.test_keras_oracle\), not "
        r"Keras's 'linear'",
    ),
    "an activation posing as keras's linear": (
        activation_posing_as_keras,
        r"activation is a custom function \(linear, which claims keras\.src\.activations\."
        r"activations but is not found there\)",
    ),
    "a custom recurrent activation": (
        custom_recurrent_activation,
        r"recurrent_activation is a custom function",
    ),
    "a Lambda layer": (lambda_layer, r"is a Lambda layer: it runs Python"),
    "a registered custom layer": (registered_custom_layer, r"is a custom layer"),
    "a custom layer inside TimeDistributed": (custom_wrapped_layer, r"is a custom layer"),
    "Conv1D": (conv_layer, r"cannot run a Conv1D layer"),
    "Dropout called with training=True": (dropout_in_training_mode, r"training=True"),
    "Masking": (masking, r"cannot run a Masking layer"),
    "a model used as a layer": (nested_model, r"is a model used as a layer"),
    "a subclassed model": (subclassed_model, r"subclassed model"),
    "an op the judge does not run": (unsupported_op, r"cannot run keras\.ops cumsum"),
    "a custom Operation": (custom_operation, r"is a custom operation \(Twice from tests\."),
}


@pytest.mark.parametrize("name", CATALOGUE)
def test_the_judge_matches_keras_or_refuses(keras, name):
    build, refusal = CATALOGUE[name]
    keras.utils.set_random_seed(0)
    model = build(keras)
    randomize(model)
    saved = through_the_wire(model)
    X = sample_inputs(model)
    if refusal is None:
        assert saved.custom == [], saved.custom
        assert_same(saved.predict(X), keras_output(model, X))
        return
    with pytest.raises((UnsupportedModel, ModelDataError)) as refused:
        saved.predict(X)
    assert re.search(refusal, str(refused.value)), str(refused.value)


# ---------------------------------------------------- what the checks can ask


def test_custom_parts_never_read_as_keras_names(keras):
    saved = through_the_wire(custom_dense_named_dense(keras))
    assert saved.layers[-1].kind == "custom Dense"
    assert saved.describe() == "LSTM(10) → custom Dense(1)"
    assert len(saved.custom) == 1
    with pytest.raises(UnsupportedModel, match=r"use keras\.layers\.Dense"):
        saved.require_builtin()
    saved = through_the_wire(custom_activation_named_linear(keras))
    assert saved.layers[-1].kind == "Dense" and saved.layers[-1].activation == "custom linear"
    saved = through_the_wire(custom_recurrent_activation(keras))
    assert saved.layers[0].recurrent_activation == "custom sigmoid"
    assert saved.layers[0].activation == "tanh"


def _compiled(keras, loss, optimizer="adam"):
    model = _seq(keras, (3, 1), keras.layers.LSTM(2), keras.layers.Dense(1))
    model.compile(loss=loss, optimizer=optimizer)
    return through_the_wire(model)


def test_losses_and_optimizers_are_keras_own_or_custom(keras):
    def mse(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))  # MAE, named mse

    class MeanSquaredError(keras.losses.MeanSquaredError):
        pass

    class Adam(keras.optimizers.Adam):
        pass

    for loss, name in [
        ("mse", "mse"),
        (keras.losses.mean_squared_error, "mean_squared_error"),
        (keras.losses.MeanSquaredError(), "MeanSquaredError"),
        (["mae"], "mae"),
    ]:
        saved = _compiled(keras, loss)
        assert (saved.loss, saved.optimizer, saved.custom) == (name, "Adam", [])
    saved = _compiled(keras, mse)
    assert saved.loss == "custom mse"
    assert saved.custom == [
        "the loss is a custom function or class (test_losses_and_optimizers_are_keras_own_or_"
        "custom.<locals>.mse from tests.test_keras_oracle), which cannot be graded here: use "
        "one of Keras's losses, e.g. loss='mse'"
    ]
    assert _compiled(keras, MeanSquaredError()).loss == "custom MeanSquaredError"
    saved = _compiled(keras, "mse", Adam(learning_rate=0.01))
    assert saved.optimizer == "custom Adam" and saved.learning_rate == pytest.approx(0.01)
    assert "the optimizer is a custom class" in saved.custom[0]
    # The forward pass does not depend on the loss: a custom loss is refused where the
    # checks ask for the loss, not in predict.
    X = np.zeros((2, 3, 1))
    assert saved.predict(X).shape == (2, 1)


def test_the_graph_for_the_checks(keras):
    saved = through_the_wire(bidirectional_as_second_output(keras))
    bidirectional, lstm, dense = (
        next(layer for layer in saved.layers if layer.kind == kind)
        for kind in ("Bidirectional(LSTM)", "LSTM", "Dense")
    )
    assert [node.name for node in saved.output_nodes] == [dense.name, bidirectional.name]
    assert [layer.kind for layer in saved.path_layers(0)] == ["LSTM", "Dense"]
    assert saved.unused_layers(0) == [bidirectional] and saved.unused_layers() == []
    assert saved.feeds(lstm, dense) and not saved.feeds(bidirectional, lstm)
    assert saved.chain() is None
    saved = through_the_wire(unused_bidirectional(keras))
    assert [layer.kind for layer in saved.layers] == ["LSTM", "Dense"]  # Keras dropped it
    assert [node.kind for node in saved.chain()] == ["LSTM", "Dense"]

    saved = through_the_wire(lesson_references("20-keras-stacked", "build_stacked")(keras))
    assert [node.kind for node in saved.chain()] == ["Bidirectional(LSTM)", "LSTM", "Dense"]
    assert saved.unused_layers() == []
    assert saved.describe() == "Bidirectional(LSTM) → LSTM(16) → Dense(1)"

    saved = through_the_wire(sigmoid_after_dense(keras))
    assert [node.kind for node in saved.output_nodes] == ["op Sigmoid"]
    assert saved.describe() == "LSTM(10) → Dense(1) → sigmoid"
    assert saved.layers[-1].kind == "Dense"  # Keras's own layer list: ops are not layers

    saved = through_the_wire(residual_last_step(keras))
    assert saved.chain() is None
    assert [node.kind for node in saved.output_nodes] == ["op Add"]
    assert [node.describe() for node in saved.path_nodes()] == [
        "LSTM(8)",
        "Dense(2)",
        "[:, -1, :]",
        "add",
    ]
    lstm = saved.path_layers()[0]
    assert saved.feeds(lstm, saved.output_nodes[0])
    assert saved.feeds(saved.input_nodes[0].name, lstm)


def test_a_dict_of_inputs(keras):
    L = keras.layers
    series, extra = keras.Input((5, 2), name="window"), keras.Input((3,), name="calendar")
    merged = L.Concatenate()([L.LSTM(4)(series), extra])
    model = keras.Model({"window": series, "calendar": extra}, L.Dense(1)(merged))
    randomize(model)
    rng = np.random.default_rng(3)
    X = {"window": rng.normal(size=(2, 5, 2)), "calendar": rng.normal(size=(2, 3))}
    X = {key: value.astype("float32") for key, value in X.items()}
    assert_same(through_the_wire(model).predict(X), keras_output(model, X))


def test_weights_of_a_layer_that_feeds_no_output_do_not_matter(keras):
    model = bidirectional_as_second_output(keras)
    randomize(model)
    X = sample_inputs(model)
    forecast = through_the_wire(model).predict(X)[0]
    (bidirectional,) = (layer for layer in model.layers if "Bidirectional" in repr(layer))
    for variable in bidirectional.weights:
        variable.assign(np.full(variable.shape, 3.0, dtype="float32"))
    np.testing.assert_allclose(through_the_wire(model).predict(X)[0], forecast, rtol=1e-12)
    np.testing.assert_allclose(forecast, keras_output(model, X)[0], **TOLERANCE)
