"""`workbook.grading.judge.expect.expect_dict`: a dict result, checked key by key (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest

from workbook.grading.judge.expect import CheckFailure, expect_dict

W = np.array([[1.0, 2.0], [3.0, 4.0]])
B = np.array([[0.5], [-0.5]])
EXPECTED = {"W": W, "b": B, "epochs": 5, "activation": "tanh"}


def _fails(got, **kwargs) -> str:
    with pytest.raises(CheckFailure) as caught:
        expect_dict(got, EXPECTED, what="params()", **kwargs)
    return str(caught.value)


def test_a_right_dict_passes_and_gives_back_the_learners_values():
    got = {"activation": "tanh", "epochs": np.int64(5), "b": B.copy(), "W": W + 1e-12}
    checked = expect_dict(got, EXPECTED, what="params()")
    assert list(checked) == ["W", "b", "epochs", "activation"]
    assert checked["W"] is got["W"]


def test_not_a_dict_or_none_is_named():
    assert "did you forget a `return`" in _fails(None)
    assert "should be a dict with the keys 'W', 'b', 'epochs', 'activation', not a tuple" in (
        _fails((W, B))
    )


def test_missing_and_extra_keys_are_named():
    message = _fails({"W": W, "bias": B, "epochs": 5, "activation": "tanh"})
    assert message == "params() lacks the key 'b' (it has 'bias')"
    extra = {**EXPECTED, "seed": 0}
    assert "has 'seed' besides the keys it should have" in _fails(extra)
    assert expect_dict(extra, EXPECTED, what="params()", extra_keys=True)["epochs"] == 5


def test_each_value_gets_the_array_diagnosis_and_its_mistakes():
    assert "params()['W']" in _fails({**EXPECTED, "W": W[:, :1]})
    message = _fails({**EXPECTED, "W": W.T}, mistakes={"W": [(W.T, "W is transposed")]})
    assert "W is transposed" in message
    assert "params()['epochs']" in _fails({**EXPECTED, "epochs": 6})
    assert _fails({**EXPECTED, "activation": "relu"}) == (
        "params()['activation'] should be 'tanh', not 'relu'"
    )


def test_a_value_under_the_wrong_key_is_named():
    expected = {"h": B, "c": 2 * B}
    got = {"h": 2 * B, "c": B}
    with pytest.raises(
        CheckFailure, match=r"step\(\)\['h'\] holds the value that belongs under 'c'"
    ):
        expect_dict(got, expected, what="step()")
