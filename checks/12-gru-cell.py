"""Hidden checks for lesson 12: gru_step, first gate by gate in NumPy (so a failure can
name the gate), then against keras.layers.GRU(reset_after=False) with the same weights.

Keras's GRU runs as `keras_gru`, its semantics in NumPy (tested against the real layer
in tests/test_keras_wire.py): this NumPy lesson never imports TensorFlow."""

import numpy as np

from workbook.expect import call, expect_array, function
from workbook.grading.keras_wire import keras_gru
from workbook.recurrent import random_params, sigmoid

HIDDEN, INPUTS, B = 3, 2, 4
SATURATE = 30.0  # σ(±30) is 1 or 0 to 1e-13: a gate forced fully open or shut
SWAPPED = (
    "the update gate works the wrong way round: here z_t = 1 must keep the old state, "
    "h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t (Keras's convention)"
)


def _gru(x, h, p, *, swapped=False, reset="before", candidate=np.tanh, gates=("z", "r")):
    """Our GRU step, with switches that reproduce typical wrong answers."""
    concat = np.vstack((h, x))
    z = sigmoid(p[f"W_{gates[0]}"] @ concat + p[f"b_{gates[0]}"])
    r = sigmoid(p[f"W_{gates[1]}"] @ concat + p[f"b_{gates[1]}"])
    W_hh, W_hx = p["W_h"][:, :HIDDEN], p["W_h"][:, HIDDEN:]
    if reset == "before":
        a = W_hh @ (r * h) + W_hx @ x + p["b_h"]
    elif reset == "after":
        a = r * (W_hh @ h) + W_hx @ x + p["b_h"]
    else:
        a = W_hh @ h + W_hx @ x + p["b_h"]
    h_tilde = candidate(a)
    return (1 - z) * h + z * h_tilde if swapped else z * h + (1 - z) * h_tilde


def _mistakes(x, h, p):
    return [
        (_gru(x, h, p, swapped=True), SWAPPED),
        (_gru(x, h, p, reset="none"),
         "the reset gate is not applied: the candidate should read r_t ⊙ h_{t-1}"),
        (_gru(x, h, p, reset="after"),
         "the reset gate multiplies W_h's product with h_{t-1} (Keras's reset_after=True); "
         "this lesson applies it before: W_h · [r_t ⊙ h_{t-1}, x_t]"),
        (_gru(x, h, p, candidate=sigmoid), "the candidate h̃_t uses sigmoid where tanh belongs"),
        (_gru(x, h, p, gates=("r", "z")),
         "z_t and r_t are swapped: the update gate uses W_z, b_z and the reset gate W_r, b_r"),
        (_gru(x, h, p, swapped=True, reset="none"),
         "the update gate works the wrong way round and the reset gate is not applied"),
    ]  # fmt: skip


def _case(seed: int, batch: int = B, **biases: float):
    rng = np.random.default_rng(seed)
    p = random_params(rng, HIDDEN, INPUTS, names="zrh", scale=0.8)
    for gate, value in biases.items():  # force a gate fully open (+) or shut (−)
        p[f"W_{gate}"][:] = 0.0
        p[f"b_{gate}"][:] = value
    return rng.standard_normal((INPUTS, batch)), rng.standard_normal((HIDDEN, batch)), p


def _check(learner, case, what, extra=()):
    x, h, p = case
    gru_step = function(learner, "gru_step")
    got = call(gru_step, x.copy(), h.copy(), {k: v.copy() for k, v in p.items()})
    expect_array(got, _gru(x, h, p), what=what, mistakes=[*extra, *_mistakes(x, h, p)])
    return got


def test_update_gate_open_keeps_state(learner):
    """update gate: with z_t = 1 the state is kept, h_t = h_{t-1}"""
    _check(learner, _case(1, z=SATURATE), "h_t with z_t = 1")


def test_candidate_without_reset(learner):
    """candidate: with z_t = 0 and r_t = 1, h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)"""
    x, h, p = _case(2, z=-SATURATE, r=SATURATE)
    a = p["W_h"] @ np.vstack((h, x))
    _check(
        learner,
        (x, h, p),
        "h_t with z_t = 0 and r_t = 1 (h_t = h̃_t)",
        extra=[
            (np.tanh(a), "the bias b_h of the candidate seems to be missing"),
            (np.tanh(p["W_h"] @ np.vstack((x, h)) + p["b_h"]),
             "looks like [x_t, h_{t-1}]: concatenate h first, as in the LSTM"),
        ],
    )  # fmt: skip


def test_reset_gate_shut_ignores_state(learner):
    """reset gate: with r_t = 0 the candidate ignores h_{t-1}"""
    x, h, p = _case(3, z=-SATURATE, r=-SATURATE)
    _check(learner, (x, h, p), "h_t with z_t = 0 and r_t = 0 (h̃_t must not see h_{t-1})")


def test_full_step(learner):
    """a full GRU step on a batch of 4 columns"""
    _check(learner, _case(4), "h_t for a batch of 4")


def test_matches_keras_gru(learner):
    """3 steps of gru_step match keras.layers.GRU(reset_after=False) with the same weights"""
    gru_step = function(learner, "gru_step")
    rng = np.random.default_rng(5)
    p = random_params(rng, HIDDEN, INPUTS, names="zrh", scale=0.8)
    X = rng.standard_normal((3, INPUTS, 2))  # (T, input, B), the course's layout
    h0 = rng.standard_normal((HIDDEN, 2))
    # Keras multiplies rows by kernels (x @ kernel) and stacks the gates z, r, h side by
    # side; our W acts on [h; x], so its first HIDDEN columns are the recurrent kernel.
    keras_H, _ = keras_gru(
        np.transpose(X, (2, 0, 1)),  # (B, T, input), Keras's layout
        np.concatenate([p[f"W_{g}"][:, HIDDEN:].T for g in "zrh"], axis=1),
        np.concatenate([p[f"W_{g}"][:, :HIDDEN].T for g in "zrh"], axis=1),
        np.concatenate([p[f"b_{g}"][:, 0] for g in "zrh"]),
        reset_after=False,
        h0=h0.T,
    )
    expected = np.transpose(keras_H, (1, 2, 0))  # (B, T, hidden) → (T, hidden, B)
    h = h0
    for t, x in enumerate(X):
        got = call(gru_step, x.copy(), h.copy(), {k: v.copy() for k, v in p.items()})
        h = expect_array(got, expected[t], what=f"h_{t + 1} compared with Keras's GRU", rtol=1e-6)
