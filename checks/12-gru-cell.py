"""Hidden checks for lesson 12: gru_step, first gate by gate in NumPy (so a failure can
name the gate), then against keras.layers.GRU(reset_after=False) with the same weights.

Keras's GRU runs as `keras_gru`, its semantics in NumPy (tested against the real layer
in tests/test_keras_model.py): this NumPy lesson never imports TensorFlow."""

import sys
from pathlib import Path

import numpy as np

# The NumPy lessons from 12 on share their two-size helpers in checks/_sizes.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sizes

from workbook.grading.judge.expect import (
    approximation_mistakes,
    expect_array,
    function,
    helper_message,
    learner_activation,
)
from workbook.grading.judge.keras_model import keras_gru
from workbook.grading.judge.references import random_params, sigmoid

HIDDEN, INPUTS, B = 3, 2, 4
# Every check runs at two sizes (input ≠ hidden both ways, a batch and a single column),
# so a size written into the code cannot pass.
SIZES = ((HIDDEN, INPUTS, B), (2, 5, 1))
SATURATE = 30.0  # σ(±30) is 1 or 0 to 1e-13: a gate forced fully open or shut
SWAPPED = (
    "the update gate works the wrong way round: here z_t = 1 must keep the old state, "
    "h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t (Keras's convention)"
)


AFTER_PRODUCT = (
    "the reset gate multiplies the matrix product W_h · [h_{t-1}, x_t], so it also scales "
    "x_t's part; it belongs inside, on h_{t-1} alone, before the product: "
    "W_h · [r_t ⊙ h_{t-1}, x_t]"
)


def _gru(x, h, p, *, swapped=False, reset="before", candidate=np.tanh, gates=("z", "r"),
         x_first=False, sig=sigmoid, biases=None, reset_in_mix=False):  # fmt: skip
    """Our GRU step, with switches that reproduce typical wrong answers."""
    if x_first:  # [x_t; h_{t-1}] in both concatenations: the same as W's columns swapped
        inputs = x.shape[0]
        p = {k: np.hstack((v[:, inputs:], v[:, :inputs])) if k[0] == "W" else v
             for k, v in p.items()}  # fmt: skip
    concat = np.vstack((h, x))
    biases = biases or gates
    z = sig(p[f"W_{gates[0]}"] @ concat + p[f"b_{biases[0]}"])
    r = sig(p[f"W_{gates[1]}"] @ concat + p[f"b_{biases[1]}"])
    hidden = h.shape[0]
    W_hh, W_hx = p["W_h"][:, :hidden], p["W_h"][:, hidden:]
    if reset == "before":
        a = W_hh @ (r * h) + W_hx @ x + p["b_h"]
    elif reset == "update":  # z_t where r_t belongs: [z_t ⊙ h_{t-1}, x_t]
        a = W_hh @ (z * h) + W_hx @ x + p["b_h"]
    elif reset == "after":
        a = r * (W_hh @ h) + W_hx @ x + p["b_h"]
    elif reset == "product":  # r_t scales the whole product, x_t's part included
        a = r * (p["W_h"] @ concat) + p["b_h"]
    elif reset == "bias":  # … or the whole pre-activation
        a = r * (p["W_h"] @ concat + p["b_h"])
    else:
        a = W_hh @ h + W_hx @ x + p["b_h"]
    h_tilde = candidate(a)
    kept = r * h if reset_in_mix else h  # reset_in_mix: r_t also scales h_{t-1} in the mix
    return (1 - z) * kept + z * h_tilde if swapped else z * kept + (1 - z) * h_tilde


# Typical wrong answers, as switches of `_gru`, each with its diagnosis.
MISTAKES = [
    (dict(swapped=True), SWAPPED),
    (dict(reset="none"),
     "the reset gate is not applied: the candidate should read r_t ⊙ h_{t-1}"),
    (dict(reset="update"),
     "the candidate reads z_t ⊙ h_{t-1}: it uses the update gate z_t where the reset gate "
     "r_t belongs, h̃_t = tanh(W_h · [r_t ⊙ h_{t-1}, x_t] + b_h)"),
    (dict(reset="after"),
     "the reset gate multiplies W_h's product with h_{t-1} (Keras's reset_after=True); "
     "this lesson applies it before: W_h · [r_t ⊙ h_{t-1}, x_t]"),
    (dict(reset="product"), AFTER_PRODUCT),
    (dict(x_first=True),
     "the concatenations look like [x_t, h_{t-1}]: stack h first, as in the LSTM"),
    (dict(reset="bias"), AFTER_PRODUCT),
    (dict(candidate=sigmoid), "the candidate h̃_t uses sigmoid where tanh belongs"),
    (dict(candidate=lambda a: np.tanh(np.tanh(a))),
     "the candidate h̃_t is squashed twice, tanh(tanh(…)): tanh is applied once, "
     "h̃_t = tanh(W_h · [r_t ⊙ h_{t-1}, x_t] + b_h), and h_t mixes h̃_t in as it is"),
    (dict(gates=("r", "z")),
     "z_t and r_t are swapped: the update gate uses W_z, b_z and the reset gate W_r, b_r"),
    (dict(swapped=True, reset="none"),
     "the update gate works the wrong way round and the reset gate is not applied"),
    (dict(reset_in_mix=True),
     "the reset gate is applied in the final mix too (z_t ⊙ r_t ⊙ h_{t-1}): r_t acts only "
     "inside the candidate; h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t"),
    (dict(biases=("r", "z")),
     "z_t and r_t have swapped biases: the update gate adds b_z, the reset gate b_r"),
    (dict(biases=("r", "r")),
     "the update gate adds b_r; each gate has its own bias: z_t uses b_z"),
    (dict(biases=("z", "z")),
     "the reset gate adds b_z; each gate has its own bias: r_t uses b_r"),
]  # fmt: skip
FULL_SEED = 4  # the seed of the full step, where no gate is forced open or shut


def _mistakes(x, h, p, switches=MISTAKES):
    return [(_gru(x, h, p, **sw), message) for sw, message in switches]


def _told_apart(learner, got, case, size):
    """The known mistakes that `got` matches, told apart on the full step when a forced
    gate makes several give the same values here: with z_t = 0 forced, z_t ⊙ h_{t-1} in
    the candidate and a reset gate that adds b_z both shut h_{t-1} out. Only those the
    learner's full step matches too are kept (all of them when it matches none)."""
    x, h, p = case
    shape = np.shape(got)
    found = [
        (sw, m) for sw, m in MISTAKES
        if _gru(x, h, p, **sw).shape == shape and np.allclose(got, _gru(x, h, p, **sw))
    ]  # fmt: skip
    if len({m for _, m in found}) < 2:
        return MISTAKES
    fx, fh, fp = _case(FULL_SEED, size)
    full = _step(learner, fx, fh, fp, size, size == SIZES[0])
    if np.shape(full) != fh.shape:
        return MISTAKES
    kept = [(sw, m) for sw, m in found if np.allclose(full, _gru(fx, fh, fp, **sw))]
    return kept or MISTAKES


def _activation_mistakes(learner, x, h, p):
    """σ or tanh replaced: the file's own `sigmoid` changed, or an approximation."""
    found = []
    sig = learner_activation(learner, "sigmoid", "sigmoid")
    if sig is not None:
        found.append((_gru(x, h, p, sig=sig), helper_message(learner, "sigmoid", "sigmoid")))
    found += approximation_mistakes("sigmoid", lambda act: _gru(x, h, p, sig=act))
    found += approximation_mistakes("tanh", lambda act: _gru(x, h, p, candidate=act))
    return found


def _case(seed: int, size=SIZES[0], **biases: float):
    hidden, inputs, batch = size
    rng = np.random.default_rng(seed)
    p = random_params(rng, hidden, inputs, names="zrh", scale=0.8)
    for gate, value in biases.items():  # force a gate fully open (+) or shut (−)
        p[f"W_{gate}"][:] = 0.0
        p[f"b_{gate}"][:] = value
    return rng.standard_normal((inputs, batch)), rng.standard_normal((hidden, batch)), p


def _named(size) -> dict[str, int]:
    hidden, inputs, batch = size
    return {"hidden": hidden, "input": inputs, "batch": batch}


def _step(learner, x, h, p, size, first):
    """The learner's h_t at one of the check's sizes (`first`: the first of them)."""
    gru_step = function(learner, "gru_step")
    return _sizes.at_size(gru_step, (x, h, p), first, **_named(size))


def _check_sizes(learner, seed, what, extra=lambda case: (), **biases):
    for size in SIZES:
        x, h, p = case = _case(seed, size, **biases)
        got, right = _step(learner, x, h, p, size, size == SIZES[0]), _gru(x, h, p)
        close = np.shape(got) == right.shape and np.allclose(got, right, rtol=1e-4, atol=1e-6)
        expect_array(
            got,
            right,
            what=_sizes.label(what, **_named(size)),
            mistakes=[
                *extra(case),
                *_mistakes(x, h, p, _told_apart(learner, got, case, size)),
                *([] if close else _activation_mistakes(learner, x, h, p)),
            ],
        )


def test_update_gate_open_keeps_state(learner):
    """update gate: with z_t = 1 the state is kept, h_t = h_{t-1}"""
    _check_sizes(learner, 1, "h_t with z_t = 1", z=SATURATE)


def _candidate_mistakes(case):
    x, h, p = case
    return [
        (np.tanh(p["W_h"] @ np.vstack((h, x))),
         "the bias b_h of the candidate seems to be missing"),
        (np.tanh(p["W_h"] @ np.vstack((x, h)) + p["b_h"]),
         "looks like [x_t, h_{t-1}]: concatenate h first, as in the LSTM"),
    ]  # fmt: skip


def test_candidate_without_reset(learner):
    """candidate: with z_t = 0 and r_t = 1, h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)"""
    _check_sizes(
        learner, 2, "h_t with z_t = 0 and r_t = 1 (h_t = h̃_t)", _candidate_mistakes,
        z=-SATURATE, r=SATURATE,
    )  # fmt: skip


def test_reset_gate_shut_ignores_state(learner):
    """reset gate: with r_t = 0 the candidate ignores h_{t-1}"""
    _check_sizes(
        learner, 3, "h_t with z_t = 0 and r_t = 0 (h̃_t must not see h_{t-1})",
        z=-SATURATE, r=-SATURATE,
    )  # fmt: skip


def test_full_step(learner):
    """a full GRU step on a batch of 4 columns, and on one column with input > hidden"""
    _check_sizes(learner, 4, "h_t")


def test_matches_keras_gru(learner):
    """3 and 5 steps of gru_step match keras.layers.GRU(reset_after=False), same weights"""
    for first, (hidden, inputs, steps, batch) in enumerate(((HIDDEN, INPUTS, 3, 2), (2, 4, 5, 3))):
        rng = np.random.default_rng(5 + steps)
        p = random_params(rng, hidden, inputs, names="zrh", scale=0.8)
        X = rng.standard_normal((steps, inputs, batch))  # (T, input, B), the course's layout
        h0 = rng.standard_normal((hidden, batch))
        # Keras multiplies rows by kernels (x @ kernel) and stacks the gates z, r, h side
        # by side; our W acts on [h; x], so its first `hidden` columns are the recurrent
        # kernel.
        keras_H, _ = keras_gru(
            np.transpose(X, (2, 0, 1)),  # (B, T, input), Keras's layout
            np.concatenate([p[f"W_{g}"][:, hidden:].T for g in "zrh"], axis=1),
            np.concatenate([p[f"W_{g}"][:, :hidden].T for g in "zrh"], axis=1),
            np.concatenate([p[f"b_{g}"][:, 0] for g in "zrh"]),
            reset_after=False,
            h0=h0.T,
        )
        expected = np.transpose(keras_H, (1, 2, 0))  # (B, T, hidden) → (T, hidden, B)
        h = h0
        size = (hidden, inputs, batch)
        for t, x in enumerate(X):
            got = _step(learner, x, h, p, size, first == 0)
            what = _sizes.label(f"h_{t + 1} compared with Keras's GRU", **_named(size))
            right = expected[t]
            close = np.shape(got) == right.shape and np.allclose(got, right, rtol=1e-4, atol=1e-6)
            mistakes = (
                [] if close else [*_mistakes(x, h, p), *_activation_mistakes(learner, x, h, p)]
            )
            h = expect_array(got, right, what=what, mistakes=mistakes)
