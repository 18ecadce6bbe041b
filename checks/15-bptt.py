"""Hidden checks for lesson 15: bptt over T = 4 and T = 6 steps, every gradient checked by
central differences of our own unrolled forward pass."""

import sys
import time
from functools import cache
from pathlib import Path

import numpy as np

# The NumPy lessons from 12 on share their two-size helpers in checks/_sizes.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sizes

from workbook.grading.judge.expect import (
    averaged,
    expect_array,
    expect_pair,
    expect_scalar,
    fail,
    function,
    gradient_tolerance,
    plot,
)
from workbook.grading.judge.references import (
    LSTM_KEYS,
    expect_gradient,
    lstm_forward,
    lstm_step,
    lstm_step_backward,
    numerical_gradient,
    random_params,
)

# (hidden, input, T, batch): every check runs at both, so neither a size nor the number
# of steps written into the code (`range(4)`) can pass.
SIZES = ((3, 2, 4, 2), (2, 3, 6, 1))
PARAM_GRADS = tuple(f"d{k}" for k in LSTM_KEYS)
NAMES = (*PARAM_GRADS, "dX", "dh0", "dC0")

MISTAKES = [
    (dict(accumulate=False), "the weights' gradients hold one step only: the same weights "
     "are used at every step, so add up (`+=`) their gradients over all steps"),
    (dict(carry_h=False), "the gradient flowing back through h is dropped: h_t feeds the "
     "loss at t and step t + 1, so pass (H[t] − Y[t]) + dh_prev of step t + 1 as dh"),
    (dict(carry_C=False), "the gradient flowing back through the cell state is dropped: "
     "pass dC_prev of step t + 1 as dC into step t"),
    (dict(backwards=False), "the loop runs forward in time; backpropagation goes from the "
     "last step to the first: `for t in reversed(range(T))`"),
    (dict(all_steps=False), "only the last step's error is used; the loss sums over all "
     "steps, so every step t adds H[t] − Y[t] to dh"),
    (dict(sign=-1.0), "the gradients have the wrong sign: ∂L/∂h_t = h_t − y_t, not y_t − h_t"),
    (dict(only=SIZES[0][2]), f"the loop goes back over a fixed {SIZES[0][2]} steps; this "
     "sequence has more: loop over all of them, `reversed(range(X.shape[0]))`"),
    (dict(swap=True), "the gradients carried back are swapped: dh_prev of step t + 1 joins "
     "dh at step t, and dC_prev joins dC (dh_next, dC_next = step[\"dh_prev\"], "
     "step[\"dC_prev\"])"),
    (dict(dX_at=lambda t, T: T - 1 - t), "dX[t] is stored at the mirrored step T − 1 − t; "
     "the backward loop visits t = T − 1 … 0, and step t's dx belongs in dX[t]"),
    (dict(dX_at=lambda t, T: T - 1), "every step's dx is written to the last slot, "
     "dX[-1] (it ends up holding step 0's); step t's dx belongs in dX[t]"),
    (dict(cache_at=lambda t, T: T - 1), "every step goes back through the last step's cache; "
     "step t needs its own, caches[t]"),
    (dict(dh_as_dC=True), "dh_next is passed as dC: the cell state's gradient into step t is "
     "dC_next, the dC_prev of step t + 1, while dh_next joins dh: "
     "lstm_step_backward(diff[t] + dh_next, dC_next, caches[t])"),
]  # fmt: skip


def _bptt(X, h0, C0, p, Y, *, accumulate=True, carry_h=True, carry_C=True, backwards=True,
          all_steps=True, sign=1.0, only=None, swap=False, dX_at=None,
          cache_at=None, dh_as_dC=False):  # fmt: skip
    """Our BPTT, with switches that reproduce typical wrong answers."""
    H, _ = lstm_forward(X, h0, C0, p)
    states = [(h0, C0)]
    for t in range(len(X)):
        h, C, _ = lstm_step(X[t], *states[-1], p)
        states.append((h, C))
    diff = sign * (H - Y)
    if not all_steps:
        diff[:-1] = 0.0
    grads = {name: np.zeros_like(p[name[1:]]) for name in PARAM_GRADS}
    dX, dh_next, dC_next = np.zeros_like(X), np.zeros_like(h0), np.zeros_like(C0)
    steps = range(min(len(X), only or len(X)))
    for t in reversed(steps) if backwards else steps:
        at = cache_at(t, len(X)) if cache_at else t
        dC = dh_next if dh_as_dC else dC_next
        step = lstm_step_backward(diff[t] + dh_next, dC, X[at], *states[at], p)
        for name in PARAM_GRADS:
            grads[name] = grads[name] + step[name] if accumulate else step[name]
        dX[dX_at(t, len(X)) if dX_at else t] = step["dx"]
        dh_next = step["dh_prev"] if carry_h else 0.0 * h0
        dC_next = step["dC_prev"] if carry_C else 0.0 * C0
        if swap:
            dh_next, dC_next = dC_next, dh_next
    return {**grads, "dX": dX, "dh0": dh_next, "dC0": dC_next}


@cache
def _case(size=SIZES[0]):
    hidden, inputs, steps, batch = size
    rng = np.random.default_rng(15 + steps)
    p = random_params(rng, hidden, inputs, scale=0.7)
    X = rng.standard_normal((steps, inputs, batch))
    Y = rng.uniform(-0.8, 0.8, (steps, hidden, batch))
    h0 = 0.5 * rng.standard_normal((hidden, batch))
    C0 = rng.standard_normal((hidden, batch))
    wrt = {"dX": X, "dh0": h0, "dC0": C0, **{f"d{k}": p[k] for k in LSTM_KEYS}}

    def loss() -> float:
        return 0.5 * float(np.sum((lstm_forward(X, h0, C0, p)[0] - Y) ** 2))

    numeric = {name: numerical_gradient(loss, array) for name, array in wrt.items()}
    wrong = [(_bptt(X, h0, C0, p, Y, **sw), message) for sw, message in MISTAKES]
    wrong.append((
        {name: 2.0 * value for name, value in numeric.items()},
        "this is twice the right gradient: ∂L/∂h_t = h_t − y_t, since the ½ of the "
        "loss cancels the 2 of the square (2·(h_t − y_t) is the gradient without the ½)",
    ))  # fmt: skip
    wrong += _averaged(numeric, batch, steps)
    return X, h0, C0, p, Y, loss(), numeric, wrong


def _averaged(numeric: dict, batch: int, steps: int) -> list[tuple[dict, str]]:
    """Every gradient divided by B, by T or by both: a mean where the loss sums."""
    why = (
        ": the loss ½ Σ ‖h_t − y_t‖² sums over all steps and batch columns, so "
        "∂L/∂h_t = h_t − y_t with no division"
    )
    found: dict[str, dict] = {}
    for name, array in numeric.items():
        counts = {"batch columns": batch, "time steps": steps}
        for value, message in averaged(array, counts, why):
            found.setdefault(message, {})[name] = value
    return [(values, message) for message, values in found.items()]


def _named(size) -> dict[str, int]:
    return dict(zip(("hidden", "input", "T", "batch"), size, strict=True))


def _run(learner, size):
    X, h0, C0, p, Y, *_ = _case(size)
    bptt = function(learner, "bptt")
    result = _sizes.at_size(bptt, (X, h0, C0, p, Y), size == SIZES[0], **_named(size))
    loss, grads = expect_pair(result, "bptt", ("loss", "grads"))
    if not isinstance(grads, dict):
        fail(f"the gradients should be a dict, not a {type(grads).__name__}")
    missing = [name for name in NAMES if name not in grads]
    if missing:
        fail(f"the gradient dict lacks {', '.join(repr(m) for m in missing)}")
    return loss, grads


def _expect(learner, names):
    for size in SIZES:
        *_, numeric, wrong = _case(size)
        _, grads = _run(learner, size)
        for name in names:
            expect_gradient(
                grads[name],
                numeric[name],
                name=_sizes.label(name, **_named(size)),
                mistakes=[(w[name], message) for w, message in wrong],
                tolerance=gradient_tolerance(grads[name]),
            )


def test_loss_value(learner):
    """the loss is ½ Σ_t ‖h_t − y_t‖² over all T steps and the batch"""
    for size in SIZES:
        _expect_loss(learner, size)


def _expect_loss(learner, size):
    X, h0, C0, p, Y, loss, *_ = _case(size)
    got, _ = _run(learner, size)
    H = lstm_forward(X, h0, C0, p)[0]
    steps, _, batch = H.shape
    norms = np.sqrt(np.sum((H - Y) ** 2, axis=1))  # ‖h_t − y_t‖ per step and column
    expect_scalar(
        got,
        loss,
        what=_sizes.label("the loss", **_named(size)),
        mistakes=[
            (2 * loss, "the ½ is missing: L = ½ Σ ‖h_t − y_t‖²"),
            (0.5 * np.sum((H[-1] - Y[-1]) ** 2), "only the last step counts; sum over all steps"),
            (loss / H.size, "this is a mean over every entry; the loss is the sum "
             "½ Σ ‖h_t − y_t‖²"),
            (2 * loss / H.size, "this is the mean of the squared differences, "
             "np.mean(diff**2); the loss is half their sum, ½ Σ ‖h_t − y_t‖², "
             "0.5 * np.sum(diff**2)"),
            (2 * loss / (steps * batch), "this is the mean of the squared norms "
             "‖h_t − y_t‖² over the steps and batch columns; the loss is half their sum, "
             "½ Σ ‖h_t − y_t‖², 0.5 * np.sum(diff**2)"),
            *averaged(loss, {"batch columns": batch, "time steps": steps},
                      ": the loss is the sum ½ Σ ‖h_t − y_t‖²"),
            (0.5 * np.sum(norms), "the norms are not squared: ½ Σ ‖h_t − y_t‖², the sum of "
             "the squared differences (np.sum(diff**2))"),
            (0.5 * np.sum(np.abs(H - Y)), "this sums |h_t − y_t|; the loss squares the "
             "differences: ½ Σ (h_t − y_t)²"),
            (0.5 * np.sum(H - Y) ** 2, "the square is taken of the sum; the loss sums the "
             "squares: ½ Σ (h_t − y_t)², np.sum(diff**2)"),
            *((0.5 * np.sum((H - Y) ** 2, axis=k), f"np.sum over axis {k} ({axis}) alone "
               "leaves an array; the loss sums over every axis, np.sum(diff**2), one number")
              for k, axis in enumerate(("time", "hidden units", "batch columns"))),
        ],
    )  # fmt: skip


def test_shapes(learner):
    """bptt returns (loss, grads) with every gradient shaped like what it differentiates"""
    for size in SIZES:
        *_, numeric, _ = _case(size)
        _, grads = _run(learner, size)
        for name in NAMES:
            what = _sizes.label(name, **_named(size))
            expect_array(grads[name], numeric[name], what=what, rtol=np.inf, atol=np.inf)


def test_input_gradients(learner):
    """dX (every step's input) passes the numerical gradient check"""
    _expect(learner, ("dX",))


def test_initial_state_gradients(learner):
    """dh0 and dC0 pass the numerical gradient check (the gradient reached step 0)"""
    _expect(learner, ("dh0", "dC0"))


# The exercise's demo (its `__main__`), shortened: plain gradient descent on one
# sequence. Few, cheap steps, and a wall-clock budget so slow learner code is not
# called 20 times just for a picture.
DEMO_STEPS, DEMO_RATE, DEMO_BUDGET_S = 20, 0.5, 0.5


def _demo():
    """The demo's problem, built as the exercise builds it (seed 42, hidden 2, input 3,
    T 4, h0 = C0 = 0), so the plot shows the run the learner can reproduce."""
    rng = np.random.default_rng(42)
    hidden, inputs, steps = 2, 3, 4
    gates = ("f", "i", "c", "o")
    p = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in gates}
    p.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in gates})
    X = rng.standard_normal((steps, inputs, 1))
    Y = rng.uniform(-0.5, 0.5, (steps, hidden, 1))
    zeros = np.zeros((hidden, 1))
    return X, zeros, zeros, p, Y


def _demo_losses(gradients, X, h0, C0, p, Y, deadline=None) -> list[float]:
    """The loss before each gradient-descent step, measured by the judge's own forward
    pass (never the loss a learner's function reports); stops early at the deadline, at
    a missing or misshapen gradient, or when the loss is no longer finite."""
    p = {name: value.copy() for name, value in p.items()}
    losses = []
    for _ in range(DEMO_STEPS + 1):
        with np.errstate(all="ignore"):
            loss = 0.5 * float(np.sum((lstm_forward(X, h0, C0, p)[0] - Y) ** 2))
        losses.append(loss)
        if not np.isfinite(loss) or len(losses) > DEMO_STEPS:
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        try:
            grads = gradients(p)
            steps = {name: np.asarray(grads[f"d{name}"], dtype=float) for name in p}
        except Exception:
            break
        if any(steps[name].shape != p[name].shape for name in p):
            break
        with np.errstate(all="ignore"):
            p = {name: p[name] - DEMO_RATE * steps[name] for name in p}
    return losses


def _plot_demo_training(learner) -> None:
    """The loss of the demo while your bptt's gradients train it (each step one call of
    your function, the loss measured by the grader), next to the same descent with
    exact gradients: wrong gradients show as a loss that stalls or climbs. A plot
    never fails a check."""
    X, h0, C0, p, Y = _demo()
    series = []
    try:
        exact = _demo_losses(lambda q: _bptt(X, h0, C0, q, Y), X, h0, C0, p, Y)
        series.append(("exact gradients", np.arange(len(exact)), exact))
        bptt = function(learner, "bptt")

        def yours(q):
            return bptt(X.copy(), h0.copy(), C0.copy(), q, Y.copy())[1]

        deadline = time.monotonic() + DEMO_BUDGET_S
        mine = _demo_losses(yours, X, h0, C0, p, Y, deadline)
        series.append(("your gradients", np.arange(len(mine)), mine))
    except Exception:
        if not series:
            return
    plot(
        "Loss while your BPTT gradients train the demo",
        series,
        x_label="gradient-descent step",
        y_label="loss ½ Σ ‖h_t − y_t‖²",
    )


def test_weight_gradients(learner):
    """dW_* and db_* pass the numerical gradient check, summed over all steps"""
    _plot_demo_training(learner)
    _expect(learner, PARAM_GRADS)
