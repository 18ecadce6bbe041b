"""The Keras lessons' checks (16–21) prove their names and never crash on a plausible
answer: odd return values, models that are not one stack, pipelines that are not
what the lesson asks for. Run in-process through the fake learner of
tests/keras_fake_learner.py (the checks see exactly the proxy's plain data), so the
hidden checks are exercised without the two-process machinery; the typical mistakes
with their diagnoses run through the real grader in tests/test_lessons.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.keras_fake_learner import FakeLearner, load_check
from workbook.grading.judge.expect import CheckFailure
from workbook.grading.judge.kerascheck import as_number, real_array
from workbook.grading.judge.proxy import LearnerRaised


@pytest.fixture(scope="module")
def keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def _outcomes(lesson_id: str, learner) -> dict[str, str | None]:
    """Every check's outcome: None (passed or not run), the learner-facing message, an
    exception of the learner's code ("learner: …"), or a crash of the check itself
    ("CRASH: …", what the grader would show as "… while checking what your code
    returned")."""
    check = load_check(lesson_id)
    outcomes: dict[str, str | None] = {}
    for name, test in vars(check).items():
        if not name.startswith("test_"):
            continue
        try:
            test(learner)
            outcomes[name] = None
        except CheckFailure as failure:
            outcomes[name] = failure.message
        except pytest.skip.Exception:
            outcomes[name] = None
        except LearnerRaised as exc:
            outcomes[name] = f"learner: {exc}"
        except Exception as exc:
            outcomes[name] = f"CRASH: {type(exc).__name__}: {exc}"
    return outcomes


def _no_crash(outcomes: dict[str, str | None]) -> None:
    crashes = {k: v for k, v in outcomes.items() if v and v.startswith("CRASH")}
    assert not crashes, crashes


# ------------------------------------------------------------ real numbers only


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (np.complex128(30 + 5j), "is a complex number (complex128)"),
        (30 + 0j, "is a complex number (complex)"),
        ("30", "should be a real number (a float), not a str"),
        (True, "not a bool"),
        (np.bool_(True), "not a bool"),
        (None, "is None: did you forget a `return`?"),
        ([30.0, 31.0], "should be one number, but it has shape (2,)"),
        (float("nan"), "is NaN or infinite"),
        ({"value": 30.0}, "should be a real number (a float), not dict"),
    ],
)
def test_as_number_takes_real_numbers_only(value, words):
    with pytest.raises(CheckFailure, match=None) as caught:
        as_number(value, "the value")
    assert words in caught.value.message, caught.value.message


@pytest.mark.parametrize("value", [30, 30.0, np.float32(30), np.array(30.0), [[30.0]]])
def test_as_number_accepts_any_real_wrapping(value):
    assert as_number(value, "the value") == 30.0


def test_real_array_names_complex_and_ragged_arrays():
    with pytest.raises(CheckFailure, match=r"holds complex numbers \(complex128\)"):
        real_array(np.ones(3) + 1j, "bias")
    with pytest.raises(CheckFailure, match="items of different lengths"):
        real_array([np.ones(3), np.ones(2)], "bias")
    assert real_array([1, 2], "x").dtype == float


# ------------------------------------------------ odd answers never crash a check

# (lesson, text of the reference, what a learner wrote instead): answers that are
# wrong in ways no typical-mistake entry covers, each of which must fail (or pass)
# with a sentence, never with an exception of the check.
ODD = [
    ("16-keras-dataset", "    return X, y\n", "    return X\n"),
    ("16-keras-dataset", "    return X, y\n", "    return X, y, y\n"),
    ("16-keras-dataset", "    return X, y\n", '    return "X", "y"\n'),
    ("16-keras-dataset", "    return X, y\n", "    return X + 1j, list(y)\n"),
    ("16-keras-dataset", "    return X, y\n", "    return {'X': X}, y\n"),
    (
        "17-keras-model-edits",
        '    model.compile(loss="mse", optimizer=Adam(learning_rate=0.01))\n    return model',
        "    return 3.0",
    ),
    (
        "17-keras-model-edits",
        "    model = Sequential()\n",
        """    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.lstm = LSTM(10)
            self.head = Dense(1)

        def call(self, x):
            return self.head(self.lstm(x))

    model = Net()
    model.compile(loss="mse", optimizer=Adam(learning_rate=0.01))
    model(np.zeros((1, sequence_length, 1)))
    return model
    model = Sequential()
""",
    ),
    (
        "17-keras-model-edits",
        "    model = Sequential()\n",
        """    import keras

    inputs = Input(shape=(sequence_length, 1))
    h = LSTM(10)(inputs)
    both = keras.layers.Concatenate()([Dense(8)(h), Dense(8)(h)])
    model = keras.Model(inputs, Dense(1)(both))
    model.compile(loss="mse", optimizer=Adam(learning_rate=0.01))
    return model
    model = Sequential()
""",
    ),
    (
        "18-keras-predict-next",
        "    lo = min(X.min(), y.min())\n",
        '    return "30"\n    lo = min(X.min(), y.min())\n',
    ),
    (
        "18-keras-predict-next",
        "    lo = min(X.min(), y.min())\n",
        "    return [30.0, 30.0]\n    lo = min(X.min(), y.min())\n",
    ),
    (
        "18-keras-predict-next",
        "    lo = min(X.min(), y.min())\n",
        "    return {'prediction': 30.0}\n    lo = min(X.min(), y.min())\n",
    ),
    (
        "18-keras-predict-next",
        "    model = build_model(X.shape[1])\n",
        """    model = build_model(X.shape[1])
    train(model, np.ones((0, 3, 1)), np.ones(0), steps=1)
    return 30.0
""",
    ),
    ("19-keras-weight-bridge", "    return [\n", "    return None\n    return [\n"),
    ("19-keras-weight-bridge", "    return [\n", '    return "kernel"\n    return [\n'),
    ("19-keras-weight-bridge", "    return [\n", "    return [1.0, 2.0, 3.0]\n    return [\n"),
    (
        "19-keras-weight-bridge",
        "    return [\n",
        "    return [np.ones((3, 8)), [np.ones(8), np.ones(3)], np.ones(8)]\n    return [\n",
    ),
    (
        "20-keras-stacked",
        '    model.compile(loss="mse", optimizer="adam")\n    return model',
        "    return model",
    ),
    (
        "20-keras-stacked",
        "    model = Sequential(\n",
        """    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = Bidirectional(LSTM(32, return_sequences=True))
            self.second = LSTM(16)
            self.head = Dense(1)

        def call(self, x):
            return self.head(self.second(self.first(x)))

    net = Net()
    net.compile(loss="mse", optimizer="adam")
    net(np.zeros((1, timesteps, features)))
    return net
    model = Sequential(
""",
    ),
    (
        "20-keras-stacked",
        "            Dense(1),\n",
        "            Dense(1),\n            Bidirectional(LSTM(4)),\n",
    ),
    (
        "21-keras-forecast",
        "    return series[:n_train], series[n_train:]",
        "    return series[:n_train], series[n_train:], None",
    ),
    (
        "21-keras-forecast",
        "    return float(np.min(train_part)), float(np.max(train_part))",
        "    return np.min(train_part) + 0j",
    ),
    (
        "21-keras-forecast",
        "    return X_train, y_train, X_val, y_val, (lo, hi)",
        "    return X_train, y_train, X_val, y_val, lo",
    ),
    (
        "21-keras-forecast",
        "    return float(np.mean(np.abs(y - X[:, -1, 0])))",
        '    return "small"',
    ),
    (
        "21-keras-forecast",
        "    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)\n",
        """    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)
    return [1.0, 2.0]
""",
    ),
    (
        "21-keras-forecast",
        "    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)\n",
        """    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)
    return {"model_mae": 1j, "baseline_mae": "2"}
""",
    ),
    (
        "21-keras-forecast",
        "    train(model, X_train, y_train)\n",
        "    train(model, X_train[:, :, 0], y_train[:, None], steps=1)\n",
    ),
]


@pytest.mark.parametrize(
    ("lesson_id", "replace", "with_"),
    ODD,
    ids=[f"{lesson}:{i}" for i, (lesson, _, _) in enumerate(ODD)],
)
def test_an_odd_answer_never_crashes_a_check(keras, lesson_id, replace, with_):
    outcomes = _outcomes(lesson_id, FakeLearner.from_solution(lesson_id, replace, with_))
    _no_crash(outcomes)
    assert any(outcomes.values()), "an odd answer should fail some check"


# ----------------------------------------------------- lesson 21: locating windows


def test_lesson_21_locates_windows_in_any_order_and_precision():
    check = load_check("21-keras-forecast")
    series = check._series()
    train, _ = check._split(series)
    lo, hi = float(train.min()), float(train.max())
    X, y = check.windows((train - lo) / (hi - lo), check.WINDOW)
    order = np.random.default_rng(3).permutation(len(X))
    for X_seen, y_seen in ((X, y), (X[order], y[order]), (X.astype(np.float32), y)):
        located = check._locate(X_seen, y_seen)
        assert located.problem is None, located.problem
        assert np.allclose(located.x_map, (1 / (hi - lo), -lo / (hi - lo)))
        assert located.targets.max() < len(train)


def test_lesson_21_names_windows_it_cannot_locate():
    check = load_check("21-keras-forecast")
    series = check._series()
    X, y = check.windows(series, check.WINDOW)
    assert "not (samples, 12, 1)" in check._locate(X[:, :, 0], y).problem
    assert "targets" in check._locate(X, y[::-1]).problem
    noise = np.random.default_rng(0).normal(size=X.shape)
    assert "no run of 12 values" in check._locate(noise, y).problem
    located = check._locate(X, y)  # the whole series: every window, located
    assert located.problem is None and located.targets.max() == len(series) - 1


def test_lesson_18_reads_the_scaling_of_shuffled_windows():
    check = load_check("18-keras-predict-next")
    X, _ = check.windows(check.DATA, 3)
    order = np.random.default_rng(1).permutation(len(X))
    assert np.allclose(check._linear_map(X, X[order] / 29.0), (1 / 29.0, 0.0))
    assert check._linear_map(X, np.sqrt(X)) is None


# ------------------------------------------------- correct answers in other styles

LESSON_18_BODY = """    lo = min(X.min(), y.min())
    hi = max(X.max(), y.max())
    model = build_model(X.shape[1])
    # Scale BOTH inputs and targets: gates and tanh live in [-1, 1], and so must the loss.
    train(model, scale(X, lo, hi), scale(y, lo, hi))
    # The test sequence goes through the same scaling as the training inputs...
    prediction = model.predict(scale(test_seq, lo, hi), verbose=0)
    # ...and the model answers in scaled units, so map the answer back.
    return float(unscale(prediction, lo, hi)[0, 0])"""

LESSON_20_MODEL = """    model = Sequential(
        [
            Input(shape=(timesteps, features)),
            # Not the last LSTM: hand the next one every time step → (batch, 20, 2 · 32).
            Bidirectional(
                LSTM(32, return_sequences=True, dropout=DROPOUT, recurrent_dropout=DROPOUT)
            ),
            # The last LSTM: only its final state → (batch, 16), what Dense wants.
            # Dropout on x_t and on h_{t-1} are arguments of the LSTM, not extra layers.
            LSTM(16, dropout=DROPOUT, recurrent_dropout=DROPOUT),
            Dense(1),
        ]
    )
    model.compile(loss="mse", optimizer="adam")"""

LESSON_21_FORECAST = (
    "    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)\n"
    "    model = build_forecaster(window)\n"
    "    train(model, X_train, y_train)"
)

CORRECT = {
    "18: windows shuffled before training, float32, model called directly": (
        "18-keras-predict-next",
        LESSON_18_BODY,
        """    lo, hi = np.min(X), np.max(y)
    order = np.random.default_rng(0).permutation(len(X))
    model = build_model(X.shape[1])
    train(model, scale(X, lo, hi)[order].astype("float32"), scale(y, lo, hi)[order])
    answer = model(scale(test_seq, lo, hi).astype("float32")).numpy()
    return np.float32(unscale(answer, lo, hi)[0, 0])""",
    ),
    "20: functional API, loss and optimizer as objects": (
        "20-keras-stacked",
        LESSON_20_MODEL,
        """    import keras

    inputs = Input(shape=(timesteps, features))
    x = Bidirectional(
        LSTM(32, return_sequences=True, dropout=DROPOUT, recurrent_dropout=DROPOUT),
        merge_mode="concat",
    )(inputs)
    x = LSTM(units=16, dropout=DROPOUT, recurrent_dropout=DROPOUT)(x)
    model = keras.Model(inputs, Dense(1)(x))
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer=keras.optimizers.Adam())""",
    ),
    "20: Sequential built with add, an explicit backward layer with dropout": (
        "20-keras-stacked",
        LESSON_20_MODEL,
        """    model = Sequential()
    model.add(Input(shape=(timesteps, features)))
    forward = LSTM(32, return_sequences=True, dropout=DROPOUT, recurrent_dropout=DROPOUT)
    backward = LSTM(
        32,
        return_sequences=True,
        go_backwards=True,
        dropout=DROPOUT,
        recurrent_dropout=DROPOUT,
    )
    model.add(Bidirectional(forward, backward_layer=backward))
    model.add(LSTM(16, dropout=DROPOUT, recurrent_dropout=DROPOUT))
    model.add(Dense(1))
    model.compile(loss="mean_squared_error", optimizer="Adam")""",
    ),
    "21: forecast's own windows, shuffled, in float32": (
        "21-keras-forecast",
        LESSON_21_FORECAST,
        """    train_part, val_part = split_series(series, train_fraction)
    lo, hi = fit_scaler(train_part)
    X_train, y_train = make_dataset((train_part - lo) / (hi - lo), window)
    X_val, y_val = make_dataset((val_part - lo) / (hi - lo), window)
    order = np.random.default_rng(0).permutation(len(X_train))
    model = build_forecaster(window)
    train(model, X_train[order].astype(np.float32), y_train[order].astype(np.float32))""",
    ),
}


@pytest.mark.parametrize("variant", CORRECT)
def test_a_correct_answer_in_another_style_passes(keras, variant):
    lesson_id, replace, with_ = CORRECT[variant]
    outcomes = _outcomes(lesson_id, FakeLearner.from_solution(lesson_id, replace, with_))
    assert not any(outcomes.values()), outcomes
