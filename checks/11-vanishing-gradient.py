"""Hidden checks for lesson 11: step Jacobian, gradient norms through T RNN steps, and
the forget-gate product along an LSTM's cell state, all against finite differences."""

import re

import numpy as np

from workbook.grading.judge.expect import (
    CheckFailure,
    call,
    expect_array,
    fail,
    fail_on_size_in_code,
    function,
    plot,
    reduction_mistakes,
)
from workbook.grading.judge.references import lstm_forward, numerical_jacobian, sigmoid

HIDDEN, INPUTS, T = 4, 3, 8
NOT_A_LIST = "return a NumPy array of T norms (one per step), e.g. `np.array(norms)`"
AXES = ("time", "hidden units", "batch columns")  # the axes of f_values, (T, hidden, 1)


# The second size set (hidden ≠ 4, another T), so that no size can be hard-coded.
OTHER_HIDDEN, OTHER_INPUTS, OTHER_T = 3, 2, 5


def _rnn_case(seed: int, scale: float = 0.7, hidden=HIDDEN, inputs=INPUTS, steps=T):
    rng = np.random.default_rng(seed)
    W_h = scale * rng.standard_normal((hidden, hidden + inputs))
    b_h = 0.3 * rng.standard_normal((hidden, 1))
    xs = rng.standard_normal((steps, inputs, 1))
    h0 = 0.5 * rng.standard_normal((hidden, 1))
    return W_h, b_h, xs, h0


def _call(func, *args):
    """Call on copies; a shape error is explained with this case's sizes."""
    try:
        return call(func, *(a.copy() for a in args))
    except ValueError as exc:
        hidden = next((a.shape[0] for a in args if a.ndim == 2 and a.shape[1] == 1), None)
        steps = next((len(a) for a in args if a.ndim == 3), None)
        named = {"hidden": hidden, "T": steps}
        fail_on_size_in_code(exc, **{k: v for k, v in named.items() if v is not None})
        trace = getattr(exc, "trace", None) or {}
        where = f" at {trace['location']} (`{trace.get('code')}`)" if trace.get("location") else ""
        if func.__name__ == "rnn_step_jacobian" and re.search(
            r"@|dot\(|matmul", trace.get("code") or ""
        ):
            fail(
                f"`rnn_step_jacobian` raised ValueError{where}: {exc}. (1 − h_t²) is a column "
                "that scales the rows of W_hh, element-wise: (1 - h_t**2) * W_hh, or as a "
                "matrix product with the diagonal matrix, np.diag((1 - h_t**2).ravel()) @ W_hh"
            )
        sizes = ", ".join(f"{a.shape}" for a in args)
        fail(
            f"`{func.__name__}` raised ValueError{where}: {exc}. Its arguments here have "
            f"shapes {sizes}: take hidden, T and the identity's size from the arrays "
            "(h0.shape[0], len(xs)) instead of fixed numbers"
        )


def _run_rnn(W_h, b_h, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(W_h @ np.vstack((h, x)) + b_h)
    return h


def _jacobian_fd(xs, W_h, b_h, h0):
    """∂h_T/∂h_0 of the unrolled RNN by central differences."""
    return numerical_jacobian(lambda h: _run_rnn(W_h, b_h, xs, h), h0)


def _step_products(
    W_h, b_h, xs, h0, *, newest_left=True, derivative=True, before=False, chained=True,
    carried=True,
):  # fmt: skip
    """Our own J_t products, optionally built the wrong way round, without tanh', with
    each step's Jacobian taken at the state before the step, or (chained=False) each
    step's own Jacobian instead of the product so far."""
    hidden = h0.shape[0]
    J, h, out = np.eye(hidden), h0, []
    for x in xs:
        h_prev = h if carried else h0
        h = np.tanh(W_h @ np.vstack((h_prev, x)) + b_h)
        at = h_prev if before else h
        step = ((1 - at**2) if derivative else 1.0) * W_h[:, :hidden]
        J = (step @ J if newest_left else J @ step) if chained else step
        out.append(J)
    return out


def test_step_jacobian(learner):
    """rnn_step_jacobian(h_t, W_h) equals ∂h_t/∂h_{t-1} (checked by finite differences)"""
    _expect_step_jacobian(learner, _rnn_case(1))


def test_step_jacobian_other_sizes(learner):
    """rnn_step_jacobian works for another hidden size (hidden = 3, input = 2)"""
    _expect_step_jacobian(learner, _rnn_case(6, hidden=OTHER_HIDDEN, inputs=OTHER_INPUTS))


def _expect_step_jacobian(learner, case):
    jacobian = function(learner, "rnn_step_jacobian")
    W_h, b_h, xs, h0 = case
    hidden = h0.shape[0]
    h1 = np.tanh(W_h @ np.vstack((h0, xs[0])) + b_h)
    numeric = _jacobian_fd(xs[:1], W_h, b_h, h0)
    got = _call(jacobian, h1, W_h)
    if np.shape(got) == W_h.shape:
        fail(
            f"the Jacobian has shape {W_h.shape}, the shape of all of W_h: only its first "
            f"`hidden` columns multiply h_{{t-1}}, so ∂h_t/∂h_{{t-1}} is ({hidden}, {hidden})"
        )
    if np.ndim(got) == 2 and np.shape(got)[0] == hidden and np.shape(got)[1] != hidden:
        fail(
            f"the Jacobian has shape {np.shape(got)}, but with hidden = {hidden} the part of "
            f"W_h that multiplies h_{{t-1}} is its first {hidden} columns, so "
            f"∂h_t/∂h_{{t-1}} is ({hidden}, {hidden}): slice with h_t.shape[0], not a fixed "
            "number"
        )
    W_hh = W_h[:, :hidden]
    inputs = W_h.shape[1] - hidden
    tail = (
        "all of them columns of x_t"
        if inputs >= hidden
        else f"the {inputs} columns of x_t and the last {hidden - inputs} of h_{{t-1}}"
    )
    expect_array(
        got,
        numeric,
        what=f"∂h_t/∂h_{{t-1}} (hidden = {hidden})",
        rtol=1e-5,
        atol=1e-7,
        mistakes=[
            (W_hh, "the tanh derivative (1 − h_t²) is missing: it multiplies row j by 1 − h_t[j]²"),
            (W_hh * (1 - h1.T**2), "1 − h_t² scales the columns; it should scale the rows "
             "(np.diag(1 − h_t²) @ W_hh, or (1 − h_t²) * W_hh with h_t a column)"),
            ((1 - h1) * W_hh, "tanh'(a) is 1 − h_t², squared: h_t = tanh(a), so 1 − tanh(a)²"),
            ((1 - np.tanh(h1) ** 2) * W_hh,
             "h_t is already tanh(a): the derivative is 1 − h_t², not 1 − tanh(h_t)²"),
            (h1 * (1 - h1) * W_hh,
             "h_t·(1 − h_t) is the derivative of sigmoid; for tanh it is 1 − h_t²"),
            ((1 + h1**2) * W_hh,
             "check the sign: tanh'(a) = 1 − tanh(a)², a minus, so the rows scale by 1 − h_t²"),
            ((1 - h1**2) * W_h[:, -hidden:],
             f"this uses the last {hidden} columns of W_h (W_h[:, -hidden:]): {tail}. "
             f"W_h · [h_{{t-1}}, x_t] stacks h first, so the block that multiplies "
             f"h_{{t-1}} is the first {hidden} columns, W_hh = W_h[:, :hidden]"),
            (np.diag((1 - h1**2).ravel()) * W_hh,
             "np.diag(1 − h_t²) * W_hh multiplies element-wise and keeps only the diagonal; "
             "the diagonal matrix multiplies W_hh as a matrix product, np.diag(…) @ W_hh"),
        ],
    )  # fmt: skip


def _expect_norms(learner, seed: int, scale: float, **sizes):
    norms_fn = function(learner, "rnn_gradient_norms")
    W_h, b_h, xs, h0 = _rnn_case(seed, scale, **sizes)
    steps = len(xs)
    try:
        got = _call(norms_fn, W_h, b_h, xs, h0)
    except CheckFailure:
        # Wrong norms from a wrong step Jacobian: point at rnn_step_jacobian, whose own
        # check names the mistake, rather than at the product built from it.
        if not _step_jacobian_is_right(learner, W_h, b_h, xs, h0):
            fail(BLAME_STEP)
        raise
    if isinstance(got, list | tuple):
        fail(NOT_A_LIST)
    products = _step_products(W_h, b_h, xs, h0)
    expected = np.array([np.linalg.norm(J, 2) for J in products])
    # The last entry is also checked against finite differences of the whole unrolled RNN,
    # so a wrong product cannot pass by agreeing with our own chain rule.
    numeric = np.linalg.norm(_jacobian_fd(xs, W_h, b_h, h0), 2)
    if not np.isclose(expected[-1], numeric, rtol=1e-5):
        fail("internal check error: chain rule and finite differences disagree")
    if np.shape(got) == ():
        fail(
            "rnn_gradient_norms returned one number: return the norm after every step, "
            f"an array of length T = {steps}",
            expected=expected,
            got=np.asarray(got),
        )
    if np.shape(got) == (steps + 1,):
        fail(
            f"got T + 1 = {steps + 1} norms: the first seems to be ‖∂h_0/∂h_0‖ = 1; return "
            "one norm per step, t = 1 … T",
            expected=expected,
            got=np.asarray(got),
        )
    wrong = np.shape(got) != expected.shape or not np.allclose(got, expected, rtol=1e-5)
    if wrong and not _step_jacobian_is_right(learner, W_h, b_h, xs, h0):
        fail(BLAME_STEP, expected=expected, got=np.asarray(got))
    expect_array(
        got,
        expected,
        what=f"the gradient norms ‖∂h_t/∂h_0‖ (W_h ~ {scale}·N(0, 1), T = {steps})",
        mistakes=lambda: [
            ([np.linalg.norm(J) for J in products],
             "this is the Frobenius norm; use the 2-norm, np.linalg.norm(J, 2)"),
            ([np.linalg.norm(J, 2) for J in _step_products(W_h, b_h, xs, h0, newest_left=False)],
             "the product is in the wrong order: by the chain rule, each new step's "
             "Jacobian multiplies the product so far from the left"),
            ([np.linalg.norm(J, 2) for J in _step_products(W_h, b_h, xs, h0, before=True)],
             "each step's Jacobian is taken at h_{t-1}, the state before the step; "
             "∂h_t/∂h_{t-1} = diag(1 − h_t²)·W_hh needs h_t, the state the step produced"),
            ([np.linalg.norm(J, 2) for J in _step_products(W_h, b_h, xs, h0, derivative=False)],
             "the tanh derivative is missing from the product: use rnn_step_jacobian"),
            ([np.linalg.norm(J, 2) for J in _step_products(W_h, b_h, xs, h0, chained=False)],
             "each norm is of one step's Jacobian ∂h_t/∂h_{t-1}; ∂h_t/∂h_0 is the product "
             "of all step Jacobians so far (J = rnn_step_jacobian(h_t, W_h) @ J)"),
            (np.concatenate([[1.0], expected[:-1]]),
             "off by one: the first norm should be after step 1, not ‖∂h_0/∂h_0‖ = 1"),
            (np.zeros_like(expected), "every norm is 0: the product seems to start from "
             "zeros; it starts from ∂h_0/∂h_0, the identity np.eye(hidden)"),
            ([np.linalg.norm(J, 2) for J in _step_products(W_h, b_h, xs, h0, carried=False)],
             "the hidden state is not carried: every step starts again from h0 (h = "
             "rnn_step(x_t, h0, …)); each step needs the h_t of the step before"),
            (expected**2, "these are the squared 2-norms; the norm itself is "
             "np.linalg.norm(J, 2), without a square"),
            ([np.linalg.norm(J, 1) for J in products],
             "this is the 1-norm (largest column sum); use the 2-norm, np.linalg.norm(J, 2)"),
            ([np.linalg.norm(J, np.inf) for J in products],
             "this is the ∞-norm (largest row sum); use the 2-norm, np.linalg.norm(J, 2)"),
            ([np.linalg.norm(J, axis=0) for J in products],
             "np.linalg.norm(J, axis=0) gives one norm per column; the matrix's 2-norm is one "
             "number per step, np.linalg.norm(J, 2)"),
            ([np.abs(J).max() for J in products],
             "this is the largest entry of J; use the 2-norm, np.linalg.norm(J, 2)"),
            ([np.max(np.abs(np.linalg.eigvals(J))) for J in products],
             "this is the spectral radius (largest |eigenvalue|); the 2-norm is the largest "
             "singular value, np.linalg.norm(J, 2)"),
        ],
    )  # fmt: skip


BLAME_STEP = (
    "the gradient norms are wrong because your rnn_step_jacobian is: it fails its own "
    "check (∂h_t/∂h_{t-1}), which says what to fix; the norms multiply its results"
)


def _step_jacobian_is_right(learner, W_h, b_h, xs, h0) -> bool:
    """Whether the learner's rnn_step_jacobian is right at this case's first step."""
    h1 = np.tanh(W_h @ np.vstack((h0, xs[0])) + b_h)
    try:
        step = _call(function(learner, "rnn_step_jacobian"), h1, W_h)
    except CheckFailure:
        return False
    right = (1 - h1**2) * W_h[:, : h0.shape[0]]
    return np.shape(step) == right.shape and np.allclose(step, right, rtol=1e-5, atol=1e-7)


def test_gradient_norms_small_weights(learner):
    """rnn_gradient_norms matches finite differences of the unrolled RNN (small W_h)"""
    _expect_norms(learner, 2, 0.5)


def test_gradient_norms_larger_weights(learner):
    """rnn_gradient_norms matches finite differences of the unrolled RNN (larger W_h)"""
    _expect_norms(learner, 3, 1.2)


def test_gradient_norms_other_sizes(learner):
    """rnn_gradient_norms works for other sizes: hidden = 3, input = 2, T = 5"""
    _expect_norms(learner, 7, 0.9, hidden=OTHER_HIDDEN, inputs=OTHER_INPUTS, steps=OTHER_T)


def test_lstm_cell_path(learner):
    """lstm_cell_gradient gives ∂C_t/∂C_0 of an LSTM whose gates do not depend on h"""
    cell_gradient = function(learner, "lstm_cell_gradient")
    rng = np.random.default_rng(4)
    # Zero weights make every gate a constant σ(b): then C_t depends on C_0 only through
    # the forget gates, and finite differences of a real LSTM give the exact answer.
    params = {f"W_{g}": np.zeros((HIDDEN, HIDDEN + INPUTS)) for g in "fico"}
    params.update({f"b_{g}": rng.uniform(-1, 3, (HIDDEN, 1)) for g in "fico"})
    X = rng.standard_normal((T, INPUTS, 1))
    h0, C0 = np.zeros((HIDDEN, 1)), rng.standard_normal((HIDDEN, 1))
    f_values = np.repeat(sigmoid(params["b_f"])[None], T, axis=0)
    numeric = np.stack(
        [
            np.diag(numerical_jacobian(lambda C, t=t: lstm_forward(X[:t], h0, C, params)[1], C0))
            for t in range(1, T + 1)
        ]
    )[:, :, None]
    got = _call(cell_gradient, f_values)
    _expect_cell_path(got, f_values, numeric, "∂C_t/∂C_0 for constant forget gates")


PLOT_T = 50  # steps in the plot, as in the lesson's table


def _plot_gradient_norms(learner) -> None:
    """Your norms against t on a log axis, for the very case the lesson's table prints
    (the exercise's demo: seed 0, hidden = 4, input = 3, h0 = b_h = 0): the RNN at two
    weight scales, the LSTM cell path at four forget gates. From your functions' own
    results; a plot never fails a check (anything wrong here is the checks' business)."""
    t = np.arange(1, PLOT_T + 1)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((PLOT_T, INPUTS, 1))
    h0, b_h = np.zeros((HIDDEN, 1)), np.zeros((HIDDEN, 1))
    scales = (0.5, 1.0)  # drawn in the demo's order, whatever the learner's code does
    weights = [scale * rng.standard_normal((HIDDEN, HIDDEN + INPUTS)) for scale in scales]
    series = []
    try:
        norms = function(learner, "rnn_gradient_norms")
        for scale, W_h in zip(scales, weights, strict=True):
            got = np.asarray(norms(W_h, b_h, xs, h0), dtype=float).ravel()
            series.append((f"RNN, W_h ~ {scale}·N(0, 1)", t[: got.size], got[:PLOT_T]))
        cell_gradient = function(learner, "lstm_cell_gradient")
        for f in (0.5, 0.9, 0.99, 0.999):
            got = np.asarray(cell_gradient(np.full((PLOT_T, HIDDEN, 1), f)), dtype=float)
            series.append((f"LSTM cell, f = {f}", t, np.abs(got).reshape(PLOT_T, -1)[:, 0]))
    except Exception:
        if not series:
            return
    plot(
        "Gradient reaching step 0",
        series,
        x_label="t",
        y_label="‖∂h_t/∂h_0‖, ∂C_t/∂C_0",
        log_y=True,
    )


def test_lstm_cell_path_varying_gates(learner):
    """lstm_cell_gradient multiplies the forget gates of all steps so far (f changing over time)"""
    _plot_gradient_norms(learner)
    cell_gradient = function(learner, "lstm_cell_gradient")
    for steps, hidden in ((T, HIDDEN), (OTHER_T, OTHER_HIDDEN)):
        f_values = np.random.default_rng(5).uniform(0.3, 1.0, (steps, hidden, 1))
        got = _call(cell_gradient, f_values)
        what = f"∂C_t/∂C_0 for varying gates (T = {steps}, hidden = {hidden})"
        _expect_cell_path(got, f_values, np.cumprod(f_values, axis=0), what)


def _expect_cell_path(got, f_values, expected, what):
    if np.shape(got) == f_values.shape[1:]:
        fail(
            f"{what} has shape {np.shape(got)}: that is one step; return the product after "
            f"every step, shape {f_values.shape}",
            expected=expected,
            got=np.asarray(got),
        )
    if np.shape(got) == (f_values.size,):
        flat = np.allclose(got, np.cumprod(f_values), rtol=1e-5, atol=1e-8)
        fail(
            f"{what} has shape {np.shape(got)}: "
            + ("np.cumprod without `axis` " if flat else "")
            + "flattens the array into one long running product (across the hidden units "
            f"too); pass axis=0 to multiply over time only, keeping the shape {f_values.shape}",
            expected=expected,
            got=np.asarray(got),
        )
    expect_array(
        got,
        expected,
        what=what,
        mistakes=[
            (np.cumsum(f_values, axis=0),
             "the forget gates are added; along the path they multiply"),
            (np.cumsum(np.log(f_values), axis=0),
             "these are the logs of the products: exponentiate them (np.exp), or multiply "
             "the gates directly with np.cumprod(…, axis=0)"),
            (np.cumprod(1 - f_values, axis=0),
             "this multiplies 1 − f_t; the cell keeps f_t ⊙ C_{t-1}"),
            (f_values, "each entry is a single f_t, not a running product (as np.cumprod "
             "along the last axis, of size 1, would leave them); ∂C_t/∂C_0 multiplies "
             "f_1 ⊙ … ⊙ f_t, along axis 0"),
            (np.cumprod(f_values, axis=1), "the running product runs over hidden units (axis 1); "
             "it should run over time (axis 0)"),
            (np.cumprod(f_values[::-1], axis=0), "the product runs backwards from f_T; "
             "∂C_t/∂C_0 is f_1 ⊙ … ⊙ f_t, from the first step"),
            (f_values ** np.arange(1, len(f_values) + 1)[:, None, None],
             "this raises each f_t to the power t, which holds only for a constant gate; "
             "multiply the actual gates f_1 ⊙ … ⊙ f_t (np.cumprod over axis 0)"),
            (f_values[:1] ** np.arange(1, len(f_values) + 1)[:, None, None],
             "this is f_1 to the power t, which holds only for a constant gate; multiply the "
             "actual gates f_1 ⊙ … ⊙ f_t (np.cumprod over axis 0)"),
            *reduction_mistakes(f_values, "cumprod", 0, axes=AXES),
        ],
    )  # fmt: skip
