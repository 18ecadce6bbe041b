"""Hidden checks for lesson 14: lstm_step_backward, verified gradient by gradient against
central differences of our own forward step, with known wrong answers named."""

import sys
from functools import cache
from pathlib import Path

import numpy as np

# The NumPy lessons from 12 on share their two-size helpers in checks/_sizes.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sizes

from workbook.grading.judge.expect import (
    averaged,
    expect_array,
    fail,
    function,
    gradient_tolerance,
    reduction_mistakes,
)
from workbook.grading.judge.references import (
    LSTM_GATES,
    LSTM_KEYS,
    expect_gradient,
    lstm_step,
    lstm_step_backward,
    numerical_gradient,
    random_params,
    sigmoid,
)

# Every check runs at two sizes (input ≠ hidden both ways, a batch and a single column),
# so a size written into the code cannot pass.
SIZES = ((3, 2, 2), (2, 4, 1))
NAMES = ("dx", "dh_prev", "dC_prev", *(f"d{k}" for k in LSTM_KEYS))

# Typical wrong answers: switches of our reference backward, and what they mean.
MISTAKES = [
    (dict(h_to_C=False), "the path from h_t back into C_t is missing: C_t also reaches the "
     "loss through h_t = o_t ⊙ tanh(C_t), so dC_total = dC + dh ⊙ o_t ⊙ (1 − tanh²(C_t))"),
    (dict(cell_tanh_prime="none"), "dh reaches C_t through tanh: multiply dh ⊙ o_t by "
     "1 − tanh²(C_t)"),
    (dict(cell_tanh_prime="C"), "the derivative of tanh(C_t) is 1 − tanh²(C_t) (cache "
     "\"tanh_C\"), not 1 − C_t²"),
    (dict(gate_sigmoid_prime=False), "the sigmoid derivative of the gates is missing: "
     "multiply by g ⊙ (1 − g) for g = f_t, i_t, o_t"),
    (dict(candidate_tanh_prime=False), "the candidate's tanh derivative 1 − C̃_t² is missing"),
    (dict(forget_on_C=False), "dC_prev must be multiplied by f_t: C_t = f_t ⊙ C_{t-1} + …"),
]  # fmt: skip
SWAPPED = (
    "dx and dh_prev look swapped; the first `hidden` rows of the gradient of "
    "[h_{t-1}; x_t] belong to h_{t-1} (h first)"
)


GATE_NAMES = {"f": "forget gate's", "i": "input gate's", "c": "candidate's", "o": "output gate's"}
FLIPPED = (
    "the sign is flipped: σ'(a) = σ(a) ⊙ (1 − σ(a)) = g ⊙ (1 − g) is positive, not g ⊙ (g − 1)"
)


def _pre_activations(dh, dC, x, h, C, p) -> dict[str, np.ndarray]:
    """∂L/∂a for each gate's pre-activation a = W · [h; x] + b, one column per batch
    entry. Columns do not interact, so column j's is the reference's bias gradient for
    that column alone."""
    columns = [
        lstm_step_backward(dh[:, [j]], dC[:, [j]], x[:, [j]], h[:, [j]], C[:, [j]], p)
        for j in range(x.shape[1])
    ]
    return {g: np.hstack([col[f"db_{g}"] for col in columns]) for g in LSTM_GATES}


def _with_pre(right: dict, p: dict, z: np.ndarray, changed: dict) -> dict:
    """The gradients when some gates' ∂L/∂a change from `old` to `new` (gate →
    (old, new)): dW, db and the gradient of z = [h; x] are linear in them."""
    grads = dict(right)
    d_concat = np.vstack((right["dh_prev"], right["dx"]))
    for g, (old, new) in changed.items():
        grads[f"dW_{g}"] = new @ z.T
        grads[f"db_{g}"] = new.sum(axis=1, keepdims=True)
        d_concat = d_concat + p[f"W_{g}"].T @ (new - old)
    hidden = right["dh_prev"].shape[0]
    grads["dh_prev"], grads["dx"] = d_concat[:hidden], d_concat[hidden:]
    return grads


def _chain_mistakes(dh, dC, x, h, C, p) -> list[tuple[dict, str]]:
    """Mistakes in the last stretch: σ' with its sign flipped, and one gate's term left
    out of the gradient of [h; x] (named after the gate)."""
    right = lstm_step_backward(dh, dC, x, h, C, p)
    pre = _pre_activations(dh, dC, x, h, C, p)
    z = np.vstack((h, x))
    wrong = [(_with_pre(right, p, z, {g: (pre[g], -pre[g]) for g in "fio"}), FLIPPED)]
    for g in LSTM_GATES:
        missing = _with_pre(right, p, z, {g: (pre[g], 0 * pre[g])})
        wrong.append((
            {name: missing[name] for name in ("dh_prev", "dx")},
            f"the {GATE_NAMES[g]} term W_{g}ᵀ · da_{g} is missing: every gate read the same "
            "[h_{t-1}; x_t], so its gradient sums W.T @ da over all four gates",
        ))  # fmt: skip
    last = p["W_o"].T @ pre["o"]  # `=` where `+=` belongs: only the last gate's term
    hidden = h.shape[0]
    wrong.append((
        {"dh_prev": last[:hidden], "dx": last[hidden:]},
        "only the last gate's term W_oᵀ · da_o is left: `=` where `+=` belongs; the "
        "gradient of [h_{t-1}; x_t] sums W.T @ da over all four gates",
    ))  # fmt: skip
    _, C_new, g = lstm_step(x, h, C, p)
    # σ' and tanh' of the activations' values where their inputs belong: σ(g)(1 − σ(g))
    # for g(1 − g), 1 − tanh²(C̃) for 1 − C̃².
    again = {k: pre[k] * sigmoid(g[k]) * (1 - sigmoid(g[k])) / (g[k] * (1 - g[k])) for k in "fio"}
    again["c"] = pre["c"] * (1 - np.tanh(g["c"]) ** 2) / (1 - g["c"] ** 2)
    wrong.append((
        _with_pre(right, p, z, {k: (pre[k], again[k]) for k in "fio"}),
        "σ' is taken of the gate's value: f_t, i_t and o_t already are σ(a), so "
        "σ'(a) = g ⊙ (1 − g) with the gate g itself, not σ(g) ⊙ (1 − σ(g))",
    ))  # fmt: skip
    wrong.append((
        _with_pre(right, p, z, {"c": (pre["c"], again["c"])}),
        "tanh' is taken of the candidate's value: C̃_t already is tanh(a), so "
        "tanh'(a) = 1 − C̃_t², not 1 − tanh(C̃_t)²",
    ))  # fmt: skip
    product_of = {"f": "C_{t-1}", "i": "C̃_t", "c": "i_t", "o": "tanh(C_t)"}
    for k in LSTM_GATES:
        wrong.append((
            _with_pre(right, p, z, {k: (pre[k], pre[k] * g[k])}),
            f"∂L/∂{ {'c': 'C̃_t'}.get(k, k + '_t')} has an extra factor "
            f"{ {'c': 'C̃_t'}.get(k, k + '_t')}: the product it sits in is "
            f"{ {'c': 'C̃_t'}.get(k, k + '_t')} ⊙ {product_of[k]}, so its derivative is "
            f"{product_of[k]} times the incoming gradient, without the factor itself",
        ))  # fmt: skip
    as_sigmoid = pre["c"] * g["c"] / (1 + g["c"])  # C̃(1 − C̃) for 1 − C̃² = (1 − C̃)(1 + C̃)
    wrong.append((
        _with_pre(right, p, z, {"c": (pre["c"], as_sigmoid)}),
        "the candidate's derivative is written as σ's, C̃_t ⊙ (1 − C̃_t): C̃_t = tanh(a), "
        "so tanh'(a) = 1 − C̃_t² (`1 - c_tilde**2`)",
    ))  # fmt: skip
    wrong.append((
        _with_pre(right, p, z, {"c": (pre["c"], pre["c"] / (1 + g["c"]))}),
        "the candidate's tanh' is written 1 − C̃_t: tanh'(a) = 1 − C̃_t², squared "
        "(`1 - c_tilde**2`)",
    ))  # fmt: skip
    wrong.append((
        _with_pre(right, p, z, {"f": (pre["f"], pre["f"] * C_new / C)}),
        "∂L/∂f_t uses the new cell state C_t: f_t scales the old one, C_t = f_t ⊙ C_{t-1} "
        "+ …, so ∂L/∂f_t = dC ⊙ C_{t-1} (`C_prev`)",
    ))  # fmt: skip
    # ∂L/∂o_t with tanh(C_t) replaced by another factor (C_t itself, o_t, tanh') or left out.
    for factor, shown in (
        (C_new, "dh ⊙ C_t"),
        (g["o"], "dh ⊙ o_t"),
        (1.0, "dh alone: the factor tanh(C_t) is missing (`dh * tanh_C`)"),
        (
            1 - np.tanh(C_new) ** 2,
            "dh ⊙ (1 − tanh²(C_t)), tanh's derivative: o_t multiplies tanh(C_t) itself",
        ),
    ):
        wrong.append((
            _with_pre(right, p, z, {"o": (pre["o"], pre["o"] * factor / np.tanh(C_new))}),
            f"∂L/∂o_t is dh ⊙ tanh(C_t), since h_t = o_t ⊙ tanh(C_t); not {shown}",
        ))  # fmt: skip
    # σ'(a) = g ⊙ (1 − g) with one of its two factors left out, in one gate.
    for k in "fio":
        for dropped, left in ((g[k], f"(1 − {k})"), (1 - g[k], k)):
            wrong.append((
                _with_pre(right, p, z, {k: (pre[k], pre[k] / dropped)}),
                f"the {GATE_NAMES[k]} σ' is written {left} alone: σ'(a) = {k} ⊙ (1 − {k}) "
                f"has both factors, `d{k} * {k} * (1 - {k})`",
            ))  # fmt: skip
    return wrong


@cache
def _case(seed: int, size=SIZES[0], with_dh: bool = True, with_dC: bool = True):
    hidden, inputs, batch = size
    rng = np.random.default_rng(seed)
    p = random_params(rng, hidden, inputs, scale=0.7)
    x = rng.standard_normal((inputs, batch))
    h = 0.5 * rng.standard_normal((hidden, batch))
    C = rng.standard_normal((hidden, batch))
    dh = rng.standard_normal((hidden, batch)) * with_dh
    dC = rng.standard_normal((hidden, batch)) * with_dC
    inputs = {"dx": x, "dh_prev": h, "dC_prev": C, **{f"d{k}": p[k] for k in LSTM_KEYS}}

    def loss() -> float:  # L = Σ dh ⊙ h_t + Σ dC ⊙ C_t has exactly these upstream gradients
        h_new, C_new, _ = lstm_step(x, h, C, p)
        return float(np.sum(dh * h_new) + np.sum(dC * C_new))

    numeric = {name: numerical_gradient(loss, array) for name, array in inputs.items()}
    wrong = [(lstm_step_backward(dh, dC, x, h, C, p, **sw), message) for sw, message in MISTAKES]
    wrong += _chain_mistakes(dh, dC, x, h, C, p)
    # Splitting the gradient of [h; x] as if x came first: right shapes, wrong rows.
    d_concat = np.vstack((numeric["dh_prev"], numeric["dx"]))
    split = {"dx": d_concat[: x.shape[0]], "dh_prev": d_concat[x.shape[0] :]}
    wrong.append((split, SWAPPED))
    # Any gradient that is exactly the negative of the right one (relative error 1).
    wrong.append(({name: -value for name, value in numeric.items()}, "the sign is flipped"))
    wrong += _averaged(numeric, batch)
    return x, h, C, p, dh, dC, numeric, wrong


def _averaged(numeric: dict, batch: int) -> list[tuple[dict, str]]:
    """Weight and bias gradients divided by B: a mean over the batch where the sum
    belongs (a relative error of exactly (1 − 1/B) / (1 + 1/B), 0.33 for B = 2)."""
    why = (
        ": the loss adds up the columns' losses, so the weights' and biases' gradients add "
        "up the columns' gradients (`d_pre @ concat.T`, `d_pre.sum(axis=1, keepdims=True)`), "
        "with no division by B"
    )
    found: dict[str, dict] = {}
    for name in (f"d{k}" for k in LSTM_KEYS):
        for value, message in averaged(numeric[name], {"batch columns": batch}, why):
            found.setdefault(message, {})[name] = value
    return [(values, message) for message, values in found.items()]


def _learner_grads(learner, case, first=True):
    x, h, C, p, dh, dC, *_ = case
    forward = function(learner, "lstm_step_forward")
    backward = function(learner, "lstm_step_backward")
    sizes = _named(case)
    result = _sizes.at_size(forward, (x, h, C, p), first, **sizes)
    ok_h, ok_C, _ = lstm_step(x, h, C, p)
    if not (
        isinstance(result, tuple)
        and len(result) == 3
        and np.allclose(result[0], ok_h)
        and np.allclose(result[1], ok_C)
    ):
        fail("lstm_step_forward is given and must stay as it was: it no longer returns the "
             "seed's (h_t, C_t, cache)")  # fmt: skip
    grads = _sizes.at_size(backward, (dh, dC, result[2]), first, **sizes)
    if not isinstance(grads, dict):
        fail(f"lstm_step_backward should return a dict of gradients, not {type(grads).__name__}")
    missing = [name for name in NAMES if name not in grads]
    if missing:
        fail(f"the gradient dict lacks {', '.join(repr(m) for m in missing)}")
    return grads


def _named(case) -> dict[str, int]:
    x, h = case[0], case[1]
    return {"hidden": h.shape[0], "input": x.shape[0], "batch": x.shape[1]}


def _shape_diagnosis(name, got, case):
    """Name the shape mistakes that expect_array can only report as 'wrong shape'."""
    hidden, inputs, batch = _named(case).values()
    shape = np.shape(got)
    if name.startswith("db_") and shape == (hidden, batch) and batch > 1:
        fail(
            f"{name} has shape {shape}, one column per batch entry: the bias is shared "
            "by all columns, so sum its gradient over them "
            "(`.sum(axis=1, keepdims=True)`), shape (hidden, 1)"
        )
    if name.startswith("db_") and shape != (hidden, 1):
        x, h, C, p, dh, dC, *_ = case
        pre = _pre_activations(dh, dC, x, h, C, p)[name[-1]]
        axes = ("hidden units", "batch columns")
        for value, message in reduction_mistakes(pre, "sum", 1, axes=axes, keepdims=True):
            if np.shape(value) == shape and np.allclose(got, value, rtol=1e-5, atol=1e-8):
                fail(f"{name} has shape {shape} but expected {(hidden, 1)}: {message}")
    if name in ("dx", "dh_prev") and shape == ({"dx": hidden, "dh_prev": inputs}[name], batch):
        fail(f"{name} has shape {shape}: {SWAPPED}")
    rows = {"dx": inputs, "dh_prev": hidden}
    if name in rows and len(shape) == 2 and shape[1] == batch and shape[0] != rows[name]:
        fail(
            f"{name} has shape {shape}, expected {(rows[name], batch)}: the gradient of "
            f"[h_{{t-1}}; x_t] is split at the wrong row; its first hidden = {hidden} rows "
            "are dh_prev, the rest dx (take hidden from the arrays, e.g. `dh.shape[0]`)"
        )


def _expect(learner, seed, names, context="", **upstream):
    """Every gradient in `names` at both sizes, against central differences."""
    for first, size in enumerate(SIZES):
        case = _case(seed, size, **upstream)
        *_, numeric, wrong = case
        grads = _learner_grads(learner, case, first == 0)
        for name in names:
            got, expected = grads[name], numeric[name]
            _shape_diagnosis(name, got, case)
            expect_gradient(
                got,
                expected,
                name=name,
                context=_sizes.label(context, **_named(case)),
                mistakes=[(w[name], message) for w, message in wrong if name in w],
                tolerance=gradient_tolerance(got),
            )


def test_returns_all_gradients(learner):
    """lstm_step_backward returns every gradient, shaped like what it differentiates"""
    for first, size in enumerate(SIZES):
        case = _case(1, size)
        grads = _learner_grads(learner, case, first == 0)
        for name in NAMES:
            _shape_diagnosis(name, grads[name], case)
            what = _sizes.label(name, **_named(case))
            expect_array(grads[name], case[6][name], what=what, rtol=np.inf, atol=np.inf)


def test_gradients_from_the_cell_state_only(learner):
    """with dh = 0 (loss only on C_t): every gradient passes the numerical gradient check"""
    _expect(learner, 2, NAMES, " with dh = 0", with_dh=False)


def test_cell_and_input_gradients(learner):
    """dC_prev, dh_prev and dx pass the numerical gradient check"""
    _expect(learner, 3, ("dC_prev", "dh_prev", "dx"))


def test_output_gate_gradients(learner):
    """dW_o and db_o pass the numerical gradient check"""
    _expect(learner, 3, ("dW_o", "db_o"))


def test_forget_input_candidate_gradients(learner):
    """dW_f, db_f, dW_i, db_i, dW_c and db_c pass the numerical gradient check"""
    _expect(learner, 3, [f"d{p}_{g}" for g in LSTM_GATES if g != "o" for p in "Wb"])
