"""Hidden checks for lesson 9: lstm_forward unrolls lstm_step over T time steps."""

import re

import numpy as np

from workbook.grading.judge.expect import (
    call,
    expect_array,
    expect_pair,
    fail,
    fail_on_size_in_code,
    function,
    plot,
)
from workbook.grading.judge.references import lstm_forward, lstm_step, random_params

HIDDEN, INPUTS, T, B = 3, 2, 5, 2

FROM_ZEROS = "looks like you start from zeros; start from h0 and C0"
C_NOT_CARRIED = (
    "the cell state is not carried: every step reuses C0 instead of the C_t of the step before"
)
H_NOT_CARRIED = (
    "the hidden state is not carried: every step reuses h0 instead of the h_t of the step before"
)
BACKWARDS = (
    "the loop runs backwards in time, from X[T-1] down to X[0]: the first step reads X[0] "
    "and starts from h0 and C0, so the loop runs forward, `for t in range(T)`"
)


def _case(batch: int = B, steps: int = T, seed: int = 9, hidden: int = HIDDEN, inputs=INPUTS):
    rng = np.random.default_rng(seed)
    params = random_params(rng, hidden, inputs, scale=0.8)
    X = rng.standard_normal((steps, inputs, batch))
    h0 = 0.5 * rng.standard_normal((hidden, batch))
    C0 = rng.standard_normal((hidden, batch))
    return X, h0, C0, params


def _unroll_wrong(X, h0, C0, p, *, carry_h=True, carry_C=True):
    """The loop with one of the states not carried (reset to h0 / C0 every step)."""
    h, C, H = h0, C0, []
    for x in X:
        h_new, C_new, _ = lstm_step(x, h if carry_h else h0, C if carry_C else C0, p)
        h, C = h_new, C_new
        H.append(h)
    return np.stack(H), C


def _run(learner, case):
    X, h0, C0, params = case
    forward = function(learner, "lstm_forward")
    try:
        result = call(
            forward, X.copy(), h0.copy(), C0.copy(), {k: v.copy() for k, v in params.items()}
        )
    except (ValueError, IndexError) as exc:
        steps, inputs, batch = X.shape
        fail_on_size_in_code(exc, T=steps, hidden=h0.shape[0], input=inputs, batch=batch)
        if isinstance(exc, ValueError):
            _explain_value_error(exc, case)
        raise
    return expect_pair(result, "lstm_forward", ("H", "C_T"))


def _explain_value_error(exc: ValueError, case) -> None:
    """A slot of H that cannot take h_t means H was allocated with the wrong shape."""
    X, h0, _, _ = case
    slot = re.search(r"could not broadcast input array from shape (\S+) into shape (\S+)", str(exc))
    if not slot:
        return
    steps, inputs, batch = X.shape
    hidden = h0.shape[0]
    trace = getattr(exc, "trace", None) or {}
    where = f" at {trace['location']} (`{trace.get('code')}`)" if trace.get("location") else ""
    cause = (
        " A slot the shape of x_t (input, B) suggests H = np.zeros_like(X), which has the "
        "input size, not the hidden size."
        if slot[2] == str((inputs, batch)).replace(" ", "")
        else " Is a size hard-coded?"
    )
    fail(
        f"storing h_t into H failed{where}: h_t has shape {slot[1]}, but a slot of your H "
        f"has shape {slot[2]}.{cause} Allocate H as (T, hidden, B) = {(steps, hidden, batch)}, "
        "e.g. np.zeros((X.shape[0], h0.shape[0], X.shape[2]))"
    )


def _expect_H(got, case, what: str = "H (all hidden states)"):
    X, h0, C0, p = case
    H, _ = lstm_forward(X, h0, C0, p)
    got_shape = np.shape(got)
    if got_shape == H.shape[1:]:
        fail(
            f"H has shape {got_shape}, the shape of one hidden state: H should stack all "
            f"T = {len(X)} hidden states h_1 … h_T into shape {H.shape}, not only the last",
            expected=H,
            got=np.asarray(got),
        )
    if got_shape == (H.shape[0] + 1, *H.shape[1:]):
        fail(
            f"H has shape {got_shape}: T + 1 states, so it seems to include h0; H should "
            f"hold only the T states produced by the steps, shape {H.shape}",
            expected=H,
            got=np.asarray(got),
        )
    if got_shape == (H.shape[1], H.shape[0], H.shape[2]):
        fail(
            f"H has shape {got_shape}: time is on axis 1; H[t] is the hidden state of step "
            f"t, so time comes first, shape {H.shape} (np.stack(states) stacks on axis 0)",
            expected=H,
            got=np.asarray(got),
        )
    expect_array(got, H, what=what, mistakes=lambda: _H_mistakes(case, H))


def _H_mistakes(case, H):
    """The usual wrong H, each with what went wrong (computed only for a wrong H)."""
    X, h0, C0, p = case
    zeros = np.zeros_like(h0)
    short = np.concatenate([H[:-1], np.zeros_like(H[-1:])])
    backwards = lstm_forward(X[::-1], h0, C0, p)[0]  # the steps run from X[T-1] to X[0]
    late = np.zeros_like(H)  # a loop from t = 1: H[0] stays zeros, step t reads X[t]
    if len(X) > 1:
        late[1:] = lstm_forward(X[1:], h0, C0, p)[0]
    return [
        (lstm_forward(X, zeros, zeros, p)[0], FROM_ZEROS),
        (lstm_forward(X, h0, zeros, p)[0], "looks like C starts from zeros; start from C0"),
        (lstm_forward(X, C0, h0, p)[0], "h0 and C0 are swapped: h starts from h0 and C "
         "from C0 (lstm_step takes x_t, h_prev, C_prev in that order)"),
        (lstm_forward(X, zeros, C0, p)[0], "looks like h starts from zeros; start from h0"),
        (_unroll_wrong(X, h0, C0, p, carry_C=False)[0], C_NOT_CARRIED),
        (_unroll_wrong(X, h0, C0, p, carry_h=False)[0], H_NOT_CARRIED),
        (np.concatenate([h0[None], H[:-1]]),
         "off by one: H[0] holds h0; H[t] should be the state produced at step t (H[0] = h_1)"),
        (lstm_forward(np.roll(X, 1, axis=0), h0, C0, p)[0],
         "step t reads X[t-1]: the input of step t is X[t]"),
        (backwards[::-1], BACKWARDS),  # H[t] stored at the t the loop was at
        (backwards, BACKWARDS),  # H filled in the order the steps ran
        (short, f"the last step is missing: H[{len(X) - 1}] is still zeros; the loop "
         f"runs over all T = {len(X)} steps, range(T)"),
        (late, "the loop starts at step 1: H[0] is still zeros and X[0] is never read; "
         "run range(T), from t = 0"),
        (H.reshape(-1, H.shape[2]), "np.concatenate (or np.vstack) joins the states "
         "along their rows, one tall matrix; np.stack(states) puts them on a new time "
         f"axis, shape {H.shape} (or fill a preallocated H[t])"),
        (np.moveaxis(H, 0, -1), "the states are stacked on the last axis "
         "(np.stack(states, axis=-1)), shape (hidden, B, T): time comes first, H[t] is the "
         f"state of step t; np.stack(states, axis=0) or np.array(states) gives {H.shape} "
         "(or fill a preallocated H[t])"),
        (np.concatenate(list(H), axis=1), "np.hstack (or concatenate along axis 1) puts "
         "the states side by side; np.stack(states) puts them on a new time axis, shape "
         f"{H.shape} (or fill a preallocated H[t])"),
    ]  # fmt: skip


def _plot_hidden_states(H, case) -> None:
    """Your h_t over the sequence, one line per hidden unit (the first batch column),
    so a state that is not carried or starts from zeros shows as a shape, not only a
    number; the expected traces are added only where yours leave them. Drawn from the H
    your lstm_forward returned; a plot never fails a check."""
    try:
        X, h0, C0, p = case
        mine = np.asarray(H, dtype=float)
        expected = lstm_forward(X, h0, C0, p)[0]
        if mine.shape != expected.shape:
            return
        t = np.arange(len(X) + 1)  # t = 0 is the given h0, where every trace starts
        units = range(mine.shape[1])
        series = [(f"unit {k + 1}", t, np.append(h0[k, 0], mine[:, k, 0])) for k in units]
        if not np.allclose(mine, expected, rtol=1e-5, atol=1e-8):
            series += [
                (f"unit {k + 1}, expected", t, np.append(h0[k, 0], expected[:, k, 0]))
                for k in units
            ]
    except Exception:
        return
    plot(
        "Your hidden states over the sequence",
        series,
        x_label="step t (0: h0)",
        y_label="h_t (first sequence)",
    )


def test_returns_all_hidden_states(learner):
    """lstm_forward returns (H, C_T) with H of shape (T, hidden, B)"""
    case = _case()
    H, _ = _run(learner, case)
    _plot_hidden_states(H, case)
    _expect_H(H, case)


def test_last_cell_state(learner):
    """C_T is the cell state after the last step, carried from C0"""
    case = _case()
    _, C_T = _run(learner, case)
    _expect_C(C_T, case, "C_T")


def _expect_C(C_T, case, what):
    X, h0, C0, p = case
    zeros = np.zeros_like(h0)
    expect_array(
        C_T,
        lstm_forward(X, h0, C0, p)[1],
        what=what,
        mistakes=[
            (C0, "C_T equals C0: return the cell state of the last step"),
            (lstm_forward(X, C0, h0, p)[1], "h0 and C0 are swapped: h starts from h0 and C "
             "from C0 (lstm_step takes x_t, h_prev, C_prev in that order)"),
            (lstm_forward(X, zeros, zeros, p)[1], FROM_ZEROS),
            (_unroll_wrong(X, h0, C0, p, carry_C=False)[1], C_NOT_CARRIED),
            (lstm_forward(X[:-1], h0, C0, p)[1], "this is the cell state one step before the end"),
            (lstm_forward(np.roll(X, 1, axis=0), h0, C0, p)[1],
             "step t reads X[t-1]: the input of step t is X[t]"),
            (lstm_forward(X[1:], h0, C0, p)[1],
             "X[0] is never read: the loop starts at step 1; run range(T), from t = 0"),
            (lstm_forward(X[::-1], h0, C0, p)[1], BACKWARDS),
            (lstm_forward(X, h0, C0, p)[0][-1], "this is h_T, the last hidden state; the "
             "second value is C_T, the cell state after the last step"),
        ],
    )  # fmt: skip


def test_single_column_and_single_step(learner):
    """works for one sequence (B = 1) and for a sequence of length 1"""
    for batch, steps in ((1, 6), (3, 1)):
        case = _case(batch, steps, seed=10 + steps)
        H, _ = _run(learner, case)
        _expect_H(H, case, what=f"H for T = {steps}, B = {batch}")


def test_other_sizes(learner):
    """works for other sizes: hidden = 4, input = 1, T = 3, a batch of 2"""
    case = _case(batch=2, steps=3, seed=13, hidden=4, inputs=1)
    H, C_T = _run(learner, case)
    _expect_H(H, case, what="H for hidden = 4, input = 1, T = 3, B = 2")
    _expect_C(C_T, case, "C_T for hidden = 4, input = 1")


def test_batch_columns_are_independent(learner):
    """each batch column is its own sequence: column k of H only depends on column k of X"""
    case = _case(batch=3, seed=12)
    H, _ = _run(learner, case)
    _expect_H(H, case, what="H for a batch of 3 sequences")
