"""Lesson 17 grades the built model, not the source text: every common way of writing
the same three edits must pass, through the same grade() path learners use.
"""

from __future__ import annotations

import pytest

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

HEADER = """
import os
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
"""

SPELLINGS = {
    "seed style: tf.keras imports, input_shape=, positional learning rate": """
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import LSTM, Dense


def build_model(sequence_length=3):
    model = Sequential()
    model.add(LSTM(10, input_shape=(sequence_length, 1)))
    model.add(Dense(16, activation="relu"))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer=tf.keras.optimizers.Adam(0.01))
    return model
""",
    "functional API, keras.Input, loss spelled out": """
import keras


def build_model(sequence_length=3):
    inputs = keras.Input(shape=(sequence_length, 1))
    hidden = keras.layers.LSTM(units=10)(inputs)
    hidden = keras.layers.Dense(4, activation="tanh")(hidden)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mean_squared_error"
    )
    return model
""",
    "Sequential list, loss object, tf.keras.optimizers.Adam keyword": """
import keras
import tensorflow as tf


def build_model(sequence_length=3):
    model = keras.Sequential(
        [
            keras.layers.Input((sequence_length, 1)),
            keras.layers.LSTM(10),
            keras.layers.Dense(10),
            keras.layers.Dense(1, activation=None),
        ]
    )
    model.compile(
        loss=keras.losses.MeanSquaredError(),
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-2),
    )
    return model
""",
}


@pytest.mark.parametrize("source", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_equivalent_spelling_passes(workspace, source):
    lesson = workspace.course.lesson("17-keras-model-edits")
    write_solution(workspace, lesson, HEADER + source)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, [
        (c.name, c.message) for c in result.failing
    ] or result.error
