"""The Keras wire: a real Keras model → to_plain → plain data → SavedModel in the judge.

The judge never imports Keras, so what it knows of a learner's model is what crosses
as plain data, and its predictions are a NumPy forward pass. These tests hold both to
real Keras: every model the course's references build (and the learner variants the
forward pass claims: GRU either way, SimpleRNN, Bidirectional, go_backwards, stacked
sequences, Dropout) predicts as `model(X)` does to 1e-5; malformed data is refused
with a sentence; and the ported checks grade references and typical mistakes through
an in-process stand-in for the judge's proxy (tests/keras_fake_learner.py).

Keras is imported by a fixture, not at collection, so that test workers which never
run these tests do not pay for TensorFlow.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.keras_fake_learner import REPO, FakeLearner, check_outcomes, load_module
from workbook.grading.judge.keras_model import (
    ModelDataError,
    SavedModel,
    UnsupportedModel,
    keras_gru,
    keras_lstm,
    keras_simple_rnn,
    to_plain,
)

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.fixture(scope="module")
def keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def _solution(lesson_id: str):
    return load_module(REPO / "course" / "solutions" / f"{lesson_id}.py")


def _sequential(keras, shape, *layers, compile_with: dict | None = None):
    model = keras.Sequential([keras.Input(shape), *layers])
    if compile_with is not None:
        model.compile(**compile_with)
    return model


def _functional_chain(keras):
    L = keras.layers
    inputs = keras.Input((6, 3))
    h = L.LSTM(5, go_backwards=True, return_sequences=True)(inputs)
    h = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave")(h)
    h = L.TimeDistributed(L.Dense(4, activation="elu"))(h)
    h = L.BatchNormalization()(h)
    h = L.Flatten()(h)
    outputs = L.Dense(2, activation="softmax")(h)
    return keras.Model(inputs, outputs)


MODELS: dict[str, Callable[[Any], Any]] = {
    "lesson 17 reference": lambda keras: _solution("17-keras-model-edits").build_model(),
    "lesson 18 reference": lambda keras: _solution("18-keras-predict-next").build_model(),
    "lesson 20 reference": lambda keras: _solution("20-keras-stacked").build_stacked(),
    "lesson 21 reference": lambda keras: _solution("21-keras-forecast").build_forecaster(),
    "GRU reset_after True and False, stacked, go_backwards": lambda keras: _sequential(
        keras,
        (5, 2),
        keras.layers.GRU(4, return_sequences=True),
        keras.layers.GRU(3, reset_after=False, go_backwards=True),
        keras.layers.Dense(1),
    ),
    "SimpleRNN, Dropout, LSTM without bias": lambda keras: _sequential(
        keras,
        (5, 2),
        keras.layers.SimpleRNN(4, activation="relu", return_sequences=True),
        keras.layers.Dropout(0.5),
        keras.layers.LSTM(3, use_bias=False),
        keras.layers.Dense(2, activation="tanh"),
    ),
    "Bidirectional sum, mul, concat without sequences": lambda keras: _sequential(
        keras,
        (4, 3),
        keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), "sum"),
        keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True), "mul"),
        keras.layers.Bidirectional(keras.layers.SimpleRNN(2)),
        keras.layers.Dense(1, activation="sigmoid"),
    ),
    "functional chain: TimeDistributed, BatchNormalization, Flatten": _functional_chain,
    "Dense activations": lambda keras: _sequential(
        keras,
        (3,),
        *(
            keras.layers.Dense(3, activation=name)
            for name in ("relu", "elu", "selu", "softplus", "softsign", "swish", "gelu")
        ),
        *(
            keras.layers.Dense(3, activation=name)
            for name in ("hard_sigmoid", "leaky_relu", "mish", "relu6", "log_softmax")
        ),
        keras.layers.Activation("exponential"),
    ),
}


def _randomize(model, seed: int = 0) -> None:
    """Random weights everywhere (biases included), so no term hides behind a zero."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 2.0, size=variable.shape).astype("float32"))
        else:
            variable.assign(rng.normal(scale=0.5, size=variable.shape).astype("float32"))


def _sample_input(model, batch: int = 4) -> np.ndarray:
    shape = [batch if d is None else d for d in model.inputs[0].shape]
    return np.random.default_rng(1).normal(size=shape).astype("float32")


def assert_plain(value: Any, where: str = "plain") -> None:
    """Only str, int, float, bool, None, lists, str-keyed dicts and numeric arrays."""
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, np.ndarray):
        assert value.dtype.kind in "biuf", f"{where}: dtype {value.dtype}"
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{where}[{i}]")
        return
    assert isinstance(value, dict), f"{where}: {type(value).__name__} is not plain data"
    for key, item in value.items():
        assert isinstance(key, str), f"{where}: key {key!r}"
        assert_plain(item, f"{where}[{key!r}]")


def _through_json(plain: dict) -> dict:
    """The plain data after a JSON round trip (arrays as tagged lists, then back)."""

    def encode(value):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}

    def decode(obj):
        if "__array__" in obj:
            return np.array(obj["__array__"], dtype=obj["dtype"])
        return obj

    return json.loads(json.dumps(plain, default=encode), object_hook=decode)


@pytest.mark.parametrize("name", MODELS)
def test_round_trip_predicts_like_keras(keras, name):
    model = MODELS[name](keras)
    _randomize(model)
    plain = to_plain(model)
    assert_plain(plain)
    saved = SavedModel(_through_json(plain))
    X = _sample_input(model)
    np.testing.assert_allclose(saved.predict(X), np.asarray(model(X)), **TOLERANCE)
    assert saved.count_params() == model.count_params()
    keras_layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert [layer.count_params() for layer in saved.layers] == [
        layer.count_params() for layer in keras_layers
    ]
    assert [layer.output_shape for layer in saved.layers] == [
        tuple(layer.output.shape) for layer in keras_layers
    ]
    assert saved.input_shape == tuple(model.inputs[0].shape)
    assert saved.output_shape == tuple(model.outputs[0].shape)


def test_structure_of_the_lesson_20_reference(keras):
    saved = SavedModel(to_plain(_solution("20-keras-stacked").build_stacked()))
    first, second, head = saved.layers
    assert saved.describe() == "Bidirectional(LSTM) → LSTM(16) → Dense(1)"
    assert first.forward_layer.units == 32 and first.return_sequences
    assert first.backward_layer.get("go_backwards") is True
    assert first.merge_mode == "concat" and first.output_shape == (None, 20, 64)
    assert (second.dropout, second.recurrent_dropout) == (0.2, 0.2)
    assert not second.return_sequences and head.activation == "linear"
    assert set(second.weights) == {"kernel", "recurrent_kernel", "bias"}
    assert second.weights["recurrent_kernel"].shape == (16, 64)


def test_optimizer_learning_rate_and_loss(keras):
    saved = SavedModel(to_plain(_solution("17-keras-model-edits").build_model()))
    assert (saved.built, saved.compiled, saved.optimizer) == (True, True, "Adam")
    assert saved.learning_rate == pytest.approx(0.01, rel=1e-6)
    assert saved.loss == "mse"


@pytest.mark.parametrize(
    ("loss", "named"),
    [
        ("mean_squared_error", "mean_squared_error"),
        ("MeanSquaredError()", "MeanSquaredError"),
        ("mean_squared_error function", "mean_squared_error"),
        ("['mae']", "mae"),
    ],
)
def test_loss_as_named(keras, loss, named):
    value = {
        "mean_squared_error": "mean_squared_error",
        "MeanSquaredError()": keras.losses.MeanSquaredError(),
        "mean_squared_error function": keras.losses.mean_squared_error,
        "['mae']": ["mae"],
    }[loss]
    model = _sequential(keras, (3, 1), keras.layers.LSTM(2), keras.layers.Dense(1))
    model.compile(loss=value, optimizer=keras.optimizers.SGD(learning_rate=0.5))
    saved = SavedModel(to_plain(model))
    assert (saved.loss, saved.optimizer, saved.learning_rate) == (named, "SGD", 0.5)


def test_uncompiled_and_unbuilt_models(keras):
    uncompiled = SavedModel(to_plain(_sequential(keras, (3, 1), keras.layers.Dense(1))))
    assert (uncompiled.compiled, uncompiled.optimizer, uncompiled.loss) == (False, None, None)
    unbuilt = keras.Sequential([keras.layers.LSTM(3), keras.layers.Dense(1)])
    saved = SavedModel(to_plain(unbuilt))
    assert not saved.built and saved.input_shape is None and saved.count_params() == 0
    assert saved.describe() == "LSTM(3) → Dense(1)"
    with pytest.raises(UnsupportedModel, match="not built"):
        saved.predict(np.zeros((1, 3, 1)))


def test_unsupported_layers_and_graphs_are_named(keras):
    conv = _sequential(keras, (5, 2), keras.layers.Conv1D(2, 3), keras.layers.Flatten())
    with pytest.raises(UnsupportedModel, match=r"cannot run a Conv1D layer \('conv1d"):
        SavedModel(to_plain(conv)).predict(np.zeros((1, 5, 2)))
    inputs = keras.Input((4,))
    halved = keras.layers.Lambda(lambda x: x / 2)(inputs)
    with pytest.raises(
        UnsupportedModel, match=r"'lambda(_\d+)?' is a Lambda layer: it runs Python"
    ):
        SavedModel(to_plain(keras.Model(inputs, halved))).predict(np.zeros((1, 4)))


def test_one_input_given_as_a_list_of_one_is_read_as_keras_reads_it(keras):
    """Keras reads predict([X]) of a one-input model as predict(X); the judge once
    stacked it into an extra axis and summed over the batch (a held-out catalogue
    found it). Data that does not fit the declared input is refused, not computed."""
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.ops.sum(inputs, axis=1)))
    X = np.random.default_rng(0).standard_normal((4, 6, 3)).astype("float32")
    saved = SavedModel(to_plain(model))
    expected = model.predict(X, verbose=0)
    for given in (X, [X], (X,)):
        np.testing.assert_allclose(saved.predict(given), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"shaped \(batch, 6, 3\), but the data given"):
        saved.predict(X[:, :5])


def test_a_model_computing_in_float16_is_refused(keras):
    """Keras rounds to float16 where the judge computes in float64: not the same model."""
    model = _sequential(
        keras, (6, 3), keras.layers.LSTM(5), keras.layers.Dense(1, dtype="mixed_float16")
    )
    with pytest.raises(UnsupportedModel, match="computes in mixed_float16"):
        SavedModel(to_plain(model)).predict(np.zeros((1, 6, 3)))


def test_refusals_name_what_keras_has_but_the_judge_does_not_run(keras):
    """A rare built-in activation is Keras's own, not a custom function; a nested
    model is a model used as a layer, not malformed data."""
    celu = _sequential(keras, (4,), keras.layers.Dense(2, activation="celu"))
    with pytest.raises(UnsupportedModel, match="activation is Keras's 'celu', which the grader"):
        SavedModel(to_plain(celu)).predict(np.zeros((1, 4)))
    inner = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
    nested = _sequential(keras, (4,), inner)
    with pytest.raises(UnsupportedModel, match="is a model used as a layer"):
        SavedModel(to_plain(nested)).predict(np.zeros((1, 4)))


# ------------------------------------------------------------ malformed plain data


@pytest.fixture(scope="module")
def lesson_17_plain(keras):
    return to_plain(_solution("17-keras-model-edits").build_model())


def _lstm_weights(plain: dict) -> list[dict]:
    return next(layer for layer in plain["layers"] if layer["class_name"] == "LSTM")["weights"]


def _drop_bias(plain):
    weights = _lstm_weights(plain)
    weights[:] = [w for w in weights if w["name"] != "bias"]


def _widen_kernel(plain):
    kernel = _lstm_weights(plain)[0]
    kernel["value"] = np.zeros((kernel["value"].shape[0], 41), dtype="float32")


def _list_weight(plain):
    _lstm_weights(plain)[0]["value"] = [[0.0] * 40]


def _text_weight(plain):
    _lstm_weights(plain)[0]["value"] = np.array([["a"] * 40])


MALFORMED = {
    "missing weight": (_drop_bias, "has no bias"),
    "wrong shape": (_widen_kernel, r"kernel has shape \(1, 41\), expected \(1, 40\)"),
    "weight as a list": (_list_weight, "should be ndarray, not list"),
    "weight of strings": (_text_weight, "should hold real numbers"),
    "built as a string": (lambda p: p.update(built="yes"), r"\['built'\] should be bool"),
    "another format": (lambda p: p.update(format="pickle"), "format 'pickle'"),
    "a newer version": (lambda p: p.update(version=3), "version 3"),
    "config not JSON": (lambda p: p["layers"][0].update(config_json="{"), "is not JSON"),
    "negative dimension": (lambda p: p.update(input_shapes=[[None, -3, 1]]), "dimension -3"),
    "layers not a list": (lambda p: p.update(layers={}), r"\['layers'\] should be list"),
    "no class name": (lambda p: p["layers"][1].pop("class_name"), "has no 'class_name'"),
    "unknown wrapper role": (
        lambda p: p["layers"][0].update(wrapped={"sidecar": p["layers"][1]}),
        "unknown roles",
    ),
    "no origin": (lambda p: p["layers"][0].pop("origin"), "has no 'origin'"),
    "origin resolves as a string": (
        lambda p: p["layers"][0]["origin"].update(resolves="yes"),
        r"\['resolves'\] should be bool",
    ),
    "losses not a list": (lambda p: p.update(losses="mse"), "losses should be a list"),
}


def _functional_config(plain: dict, edit) -> None:
    config = json.loads(plain["config_json"])
    edit(config["config"])
    plain["config_json"] = json.dumps(config)


def _read_from(name: str):
    def edit(config):
        node = config["layers"][1]["inbound_nodes"][0]["args"][0]
        node["config"]["keras_history"][0] = name

    return edit


GRAPH_MALFORMED = {
    "reads a node that is not there": (_read_from("nowhere"), "reads 'nowhere', which is not"),
    "a cycle": (lambda c: _read_from(c["layers"][-1]["name"])(c), "the graph has a cycle"),
    "history not a triple": (
        lambda c: c["layers"][1]["inbound_nodes"][0]["args"][0]["config"].update(
            keras_history="lstm"
        ),
        "should be \\[layer name, node index, tensor index\\]",
    ),
    "outputs not layers": (lambda c: c.update(output_layers=[]), "output_layers is empty"),
    "a layer missing from the config": (
        lambda c: c["layers"].pop(1),
        r"layers \['lstm\w*'\] are not in the model's config",
    ),
    "a node of another class": (
        lambda c: c["layers"][1].update(class_name="GRU"),
        "is a GRU in the config but a LSTM in the layers",
    ),
}


@pytest.mark.parametrize("case", GRAPH_MALFORMED)
def test_malformed_graphs_are_refused_with_a_sentence(keras, case):
    inputs = keras.Input((3, 1))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(2)(inputs)))
    plain = to_plain(model)
    edit, message = GRAPH_MALFORMED[case]
    _functional_config(plain, edit)
    with pytest.raises(ModelDataError, match=message):
        SavedModel(plain)


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_plain_data_is_refused_with_a_sentence(lesson_17_plain, case):
    damage, message = MALFORMED[case]
    plain = copy.deepcopy(lesson_17_plain)
    damage(plain)
    with pytest.raises(ModelDataError, match=message) as refused:
        SavedModel(plain)
    assert str(refused.value).startswith("malformed model data: ")


def test_not_a_dict_is_refused():
    with pytest.raises(ModelDataError, match="expected a dict, got str"):
        SavedModel("model")


# ------------------------------------------------- cell semantics vs real layers


def _layer_outputs(keras, layer, X, initial_state):
    layer.build(X.shape)
    rng = np.random.default_rng(3)
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])
    return layer.get_weights(), np.asarray(layer(X, initial_state=initial_state))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_numpy_lstm_matches_keras(keras, go_backwards):
    rng = np.random.default_rng(4)
    X, h0, c0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    layer = keras.layers.LSTM(4, return_sequences=True, go_backwards=go_backwards, dtype="float64")
    weights, expected = _layer_outputs(keras, layer, X, [h0, c0])
    got, h, _ = keras_lstm(X, *weights, h0=h0, c0=c0, go_backwards=go_backwards)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, expected[:, -1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_numpy_gru_matches_keras(keras, reset_after):
    rng = np.random.default_rng(5)
    X, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    layer = keras.layers.GRU(4, return_sequences=True, reset_after=reset_after, dtype="float64")
    weights, expected = _layer_outputs(keras, layer, X, [h0])
    got, _ = keras_gru(X, *weights, reset_after=reset_after, h0=h0)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_numpy_simple_rnn_matches_keras(keras):
    rng = np.random.default_rng(6)
    X, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    layer = keras.layers.SimpleRNN(4, return_sequences=True, dtype="float64")
    weights, expected = _layer_outputs(keras, layer, X, [h0])
    np.testing.assert_allclose(keras_simple_rnn(X, *weights, h0=h0)[0], expected, rtol=1e-10)


def test_numpy_cells_name_the_weight_that_does_not_fit():
    X = np.zeros((1, 5, 3))
    with pytest.raises(ValueError, match=r"needs bias of shape \(8,\), got \(8, 1\)"):
        keras_lstm(X, np.zeros((3, 8)), np.zeros((2, 8)), np.zeros((8, 1)))
    with pytest.raises(ValueError, match=r"needs kernel of shape \(3, 6\), got \(6, 3\)"):
        keras_gru(X, np.zeros((6, 3)), np.zeros((2, 6)), reset_after=False)


# --------------------------------------------------- the judge never imports Keras


def test_checks_and_wire_import_without_keras():
    lessons = ["12-gru-cell", *(p.stem for p in sorted((REPO / "checks").glob("1[6-9]-*.py")))]
    lessons += [p.stem for p in sorted((REPO / "checks").glob("2[01]-*.py"))]
    script = (
        "import sys\n"
        "from tests.keras_fake_learner import load_check\n"
        "import workbook.grading.judge.kerascheck, workbook.grading.judge.keras_model\n"
        f"for lesson in {lessons!r}:\n"
        "    load_check(lesson)\n"
        "loaded = {'keras', 'tensorflow'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)


# ---------------------------------------- the ported checks, through a fake learner

KERAS_CHECKED = (
    "12-gru-cell",
    "16-keras-dataset",
    "17-keras-model-edits",
    "18-keras-predict-next",
    "19-keras-weight-bridge",
    "20-keras-stacked",
    "21-keras-forecast",
)


@pytest.mark.parametrize("lesson_id", KERAS_CHECKED)
def test_reference_passes_the_ported_checks(keras, lesson_id):
    outcomes = check_outcomes(lesson_id, FakeLearner.from_solution(lesson_id))
    assert not any(outcomes.values()), outcomes


def _keras_mistakes():
    for lesson_id in KERAS_CHECKED:
        path = REPO / "tests" / "mistakes" / f"{lesson_id}.toml"
        for entry in tomllib.loads(path.read_text(encoding="utf-8"))["mistake"]:
            yield pytest.param(lesson_id, entry, id=f"{lesson_id}:{entry['name']}")


@pytest.mark.parametrize(("lesson_id", "mistake"), list(_keras_mistakes()))
def test_ported_checks_name_typical_mistakes(keras, lesson_id, mistake):
    learner = FakeLearner.from_solution(lesson_id, mistake["replace"], mistake["with"])
    messages = [m for m in check_outcomes(lesson_id, learner).values() if m]
    assert any(mistake["expect"] in m for m in messages), messages
    if "not_expect" in mistake:
        assert not any(mistake["not_expect"] in m for m in messages), messages


LESSON_18_BODY = """    lo = min(X.min(), y.min())
    hi = max(X.max(), y.max())
    model = build_model(X.shape[1])
    # Scale BOTH inputs and targets: gates and tanh live in [-1, 1], and so must the loss.
    train(model, scale(X, lo, hi), scale(y, lo, hi))
    # The test sequence goes through the same scaling as the training inputs...
    prediction = model.predict(scale(test_seq, lo, hi), verbose=0)
    # ...and the model answers in scaled units, so map the answer back.
    return float(unscale(prediction, lo, hi)[0, 0])
"""

LESSON_18_VARIANTS = {
    "z-score scaling passes": (
        """    mu, sd = X.mean(), X.std()
    model = build_model(X.shape[1])
    train(model, (X - mu) / sd, (y - mu) / sd)
    return float(model.predict((test_seq - mu) / sd, verbose=0)[0, 0] * sd + mu)
""",
        None,
    ),
    "dividing by a constant passes": (
        """    model = build_model(X.shape[1])
    train(model, X / 30.0, y / 30.0)
    return float(model(test_seq / 30.0).numpy()[0, 0] * 30.0)
""",
        None,
    ),
    "the right number, not the model's": (
        """    model = build_model(X.shape[1])
    train(model, scale(X, 0, 29), scale(y, 0, 29))
    return 30.0
""",
        "return that model's own prediction",
    ),
    "no training at all": ("    return 30.0\n", "never called `train(model, X, y)`"),
}


@pytest.mark.parametrize("variant", LESSON_18_VARIANTS)
def test_lesson_18_grades_behaviour(keras, variant):
    body, expected = LESSON_18_VARIANTS[variant]
    learner = FakeLearner.from_solution("18-keras-predict-next", LESSON_18_BODY, body)
    outcomes = check_outcomes("18-keras-predict-next", learner)
    if expected is None:
        assert not any(outcomes.values()), outcomes
    else:
        assert any(m and expected in m for m in outcomes.values()), outcomes
        assert not any(m and "saturate" in m for m in outcomes.values()), outcomes


def test_unreadable_model_becomes_a_learner_facing_failure():
    """However the proxy carries a ModelDataError across (as itself, or as a ValueError
    with its text), the check says the model could not be read, not a traceback."""
    from workbook.grading.judge.expect import CheckFailure
    from workbook.grading.judge.kerascheck import learner_model

    class Learner:
        @staticmethod
        def build_model(length):
            raise ValueError(
                "`build_model` returned something unreadable: malformed model data: "
                "layer 'lstm' (LSTM, 10 units): kernel has shape (1, 41), expected (1, 40)"
            )

    with pytest.raises(CheckFailure, match=r"could not be read by the grader: .*kernel"):
        learner_model(Learner(), "build_model", 3)


# ------------------------------------------------- the wire: shapes and sizes


def _round_trip(value: Any) -> Any:
    from workbook.grading import wire

    head, buffers = wire.encode({}, value=value)
    return wire.decode(json.loads(head)["value"], buffers)


SCALARS = {
    "Python float": 1.5,
    "Python int": 3,
    "NumPy float64 (what np.sum returns)": np.float64(1.5),
    "NumPy float32": np.float32(1.5),
    "NumPy int64": np.int64(3),
    "NumPy bool": np.bool_(True),
    "0-d array": np.array(1.5),
    "0-d float32 array": np.array(1.5, dtype="float32"),
}


@pytest.mark.parametrize("name", SCALARS)
def test_scalars_stay_scalars(name):
    value = SCALARS[name]
    got = _round_trip(value)
    assert type(got) is type(value) and np.shape(got) == ()
    assert got == value and np.asarray(got).dtype == np.asarray(value).dtype


def test_lists_of_numpy_scalars_stay_lists_of_scalars():
    values = [np.float64(0.5), np.float32(1.5), np.int64(2)]
    got = _round_trip(values)
    assert [type(v) for v in got] == [type(v) for v in values] and got == values
    assert np.asarray(got).shape == (3,)
    assert np.asarray(_round_trip((np.float64(1.0), np.float64(2.0)))).shape == (2,)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6.0).reshape(2, 3),
        np.arange(6.0).reshape(2, 3).T,  # not C-contiguous
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.arange(10)[::3],
        np.zeros((0, 3)),
        np.zeros((2, 1, 1)),
        np.arange(4, dtype=">f8"),  # big-endian
        np.array([[1 + 2j]]),
    ],
    ids=repr,
)
def test_arrays_keep_their_shape_dtype_and_values(array):
    got = _round_trip(array)
    assert isinstance(got, np.ndarray)
    assert (got.shape, got.dtype) == (array.shape, array.dtype)
    np.testing.assert_array_equal(got, array)


def test_values_over_the_limits_say_what_was_too_large():
    from workbook.grading import wire

    deep: Any = 0.5
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.TooLarge, match="nests lists, tuples or dicts more than 32 deep"):
        wire.encode({}, value=deep)
    with pytest.raises(wire.TooLarge, match=r"more than 1,000,000 items"):
        wire.encode({}, value=[0.5] * (wire.MAX_ITEMS + 1))


LESSON_15_LOSS = "    loss = 0.5 * float(np.sum(diff**2))\n"


@pytest.mark.parametrize(
    "loss",
    [
        "    loss = 0.5 * np.sum(diff**2)  # np.float64\n",
        "    loss = np.array(0.5 * np.sum(diff**2))  # 0-d array\n",
        "    loss = np.float32(0.5 * np.sum(diff**2))\n",
    ],
    ids=["np.float64", "0-d array", "np.float32"],
)
def test_lesson_15_takes_any_scalar_loss(workspace, loss):
    from tests.conftest import write_solution
    from workbook.grading.results import Verdict
    from workbook.grading.runner import grade

    lesson = workspace.course.lesson(15)
    reference = workspace.solution_for(lesson)
    assert LESSON_15_LOSS in reference, "the variant no longer applies to the solution"
    write_solution(workspace, lesson, reference.replace(LESSON_15_LOSS, loss))
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, [(c.name, c.message) for c in result.failing]
