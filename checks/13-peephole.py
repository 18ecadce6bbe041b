"""Hidden checks for lesson 13: peephole_step, an LSTM step whose gates read the cell state."""

import numpy as np

from workbook.expect import call, expect_array, expect_pair, function
from workbook.recurrent import random_params, sigmoid

HIDDEN, INPUTS, B = 3, 2, 3


def _peep(p, gate, C, style):
    """A peephole term as written right (element-wise) or as a matrix product."""
    if style == "none":
        return 0.0
    return p[f"p_{gate}"] * C if style == "diag" else p[f"p_{gate}"].T @ C


def _step(x, h, C, p, *, fi="diag", o="diag", o_reads="new"):
    """Our peephole step, with switches that reproduce typical wrong answers."""
    z = np.vstack((h, x))
    f = sigmoid(p["W_f"] @ z + _peep(p, "f", C, fi) + p["b_f"])
    i = sigmoid(p["W_i"] @ z + _peep(p, "i", C, fi) + p["b_i"])
    c = np.tanh(p["W_c"] @ z + p["b_c"])
    C_new = f * C + i * c
    o = sigmoid(p["W_o"] @ z + _peep(p, "o", C_new if o_reads == "new" else C, o) + p["b_o"])
    return o * np.tanh(C_new), C_new


MISTAKES = [
    (dict(o_reads="old"),
     "the output gate reads C_{t-1}; it should peek at the new cell state C_t"),
    (dict(fi="dot", o="dot"), "the peepholes look like matrix products; they are element-wise, "
     "p ⊙ C with `*` (one weight per cell unit)"),
    (dict(fi="dot"), "the peepholes of f_t and i_t look like matrix products; they are "
     "element-wise, p ⊙ C_{t-1} with `*`"),
    (dict(o="dot"), "the output peephole looks like a matrix product; it is element-wise, "
     "p_o ⊙ C_t with `*`"),
    (dict(fi="none", o="none"), "the peephole terms are missing: this is the plain LSTM step"),
    (dict(fi="none"),
     "the forget and input gates miss their peepholes p_f ⊙ C_{t-1} and p_i ⊙ C_{t-1}"),
    (dict(o="none"), "the output gate misses its peephole p_o ⊙ C_t"),
]  # fmt: skip


def _case(seed: int, *, fi=True, o=True):
    rng = np.random.default_rng(seed)
    p = random_params(rng, HIDDEN, INPUTS, scale=0.7)
    for gate, on in (("f", fi), ("i", fi), ("o", o)):
        p[f"p_{gate}"] = rng.uniform(0.5, 1.5, (HIDDEN, 1)) * rng.choice([-1, 1], (HIDDEN, 1))
        p[f"p_{gate}"] *= 1.0 if on else 0.0
    x = rng.standard_normal((INPUTS, B))
    h = 0.5 * rng.standard_normal((HIDDEN, B))
    C = 1.5 * rng.standard_normal((HIDDEN, B))
    return x, h, C, p


def _check(learner, case, where):
    x, h, C, p = case
    step = function(learner, "peephole_step")
    result = call(step, x.copy(), h.copy(), C.copy(), {k: v.copy() for k, v in p.items()})
    h_got, C_got = expect_pair(result, "peephole_step", ("h_t", "C_t"))
    h_ok, C_ok = _step(x, h, C, p)
    # C_t never sees the output gate, so only the f/i mistakes can explain a wrong C_t.
    cell_mistakes = [(sw, m) for sw, m in MISTAKES if set(sw) == {"fi"}]
    expect_array(
        C_got,
        C_ok,
        what=f"C_t {where}",
        mistakes=[(_step(x, h, C, p, **sw)[1], m) for sw, m in cell_mistakes],
    )
    expect_array(
        h_got,
        h_ok,
        what=f"h_t {where}",
        mistakes=[(_step(x, h, C, p, **sw)[0], m) for sw, m in MISTAKES],
    )


def test_zero_peepholes_is_the_plain_lstm(learner):
    """with all peepholes 0 it is the seed's LSTM step"""
    _check(learner, _case(1, fi=False, o=False), "with p_f = p_i = p_o = 0")


def test_forget_and_input_peepholes(learner):
    """f_t and i_t add p_f ⊙ C_{t-1} and p_i ⊙ C_{t-1}"""
    _check(learner, _case(2, o=False), "with only p_f and p_i non-zero")


def test_output_peephole_reads_new_cell_state(learner):
    """o_t adds p_o ⊙ C_t, the cell state just computed"""
    _check(learner, _case(3, fi=False), "with only p_o non-zero")


def test_full_peephole_step(learner):
    """a full peephole step on a batch of 3 columns"""
    _check(learner, _case(4), "with all peepholes")
