"""Hidden checks for lesson 2: the concatenation [h_{t-1}; x_t]."""

import numpy as np

from workbook.grading.judge.expect import call, expect_array, fail, fail_on_size_in_code, function

# The seed's worked example (hidden = input = 2) and a case with hidden != input, so
# that a swapped order or a side-by-side stack cannot pass by accident.
SEED_H = np.array([[0.2], [0.4]])
SEED_X = np.array([[0.6], [0.1]])
H = np.array([[0.5], [-1.25], [2.0]])
X = np.array([[3.5], [-0.75]])


def _concat(h, x):
    return np.concatenate((h, x), axis=0)


def _mistakes(h, x):
    """Known wrong answers with the same shape as the right one."""
    return [(_concat(x, h), "looks like [x_t, h_{t-1}]: the seed concatenates h first")]


NEW_AXIS = (
    "np.stack, np.dstack and np.array([h_prev, x_t]) put the two arrays along a new axis; "
    "concatenation joins them along the rows they already have: np.vstack((h_prev, x_t)) "
    "or np.concatenate((h_prev, x_t), axis=0)"
)


def _run(learner, h, x):
    """Call the learner's concat, explaining shape errors NumPy raises inside it."""
    concat = function(learner, "concat")
    try:
        return call(concat, h.copy(), x.copy())
    except ValueError as exc:
        fail_on_size_in_code(exc, hidden=h.shape[0], input=x.shape[0], batch=h.shape[1])
        code = (getattr(exc, "trace", None) or {}).get("code") or ""
        text = str(exc)
        if "same shape" in text or "inhomogeneous" in text or "dstack" in code:
            why = f"{NEW_AXIS}, which also works when their sizes differ"
        elif ".T" in code or "transpose" in code:
            why = (
                "the transposes are rows of different lengths, which cannot be stacked; "
                "stack the columns themselves, on top of each other (axis 0)"
            )
        else:
            why = (
                "they can only be stacked on top of each other (axis 0), not side by side or added"
            )
        fail(
            f"`concat` raised ValueError (h_prev has shape {h.shape} and x_t has shape "
            f"{x.shape}): {why} (NumPy said: {exc})"
        )


def _diagnose_shape(got, h, x, what):
    """Name the mistakes that give a wrong shape before the generic shape messages."""
    if not isinstance(got, np.ndarray) or got.shape == _concat(h, x).shape:
        return
    if got.shape == h.shape == x.shape:
        if np.allclose(got, h + x):
            fail(
                f"{what}: looks like h_{{t-1}} + x_t: concatenation stacks the two columns, "
                "it does not add them",
                expected=_concat(h, x),
                got=got,
            )
        if np.allclose(got, h * x):
            fail(
                f"{what}: looks like h_{{t-1}} * x_t: concatenation stacks the two columns, "
                "it does not multiply them",
                expected=_concat(h, x),
                got=got,
            )
    if got.ndim == 3 and got.size == _concat(h, x).size:
        fail(
            f"{what} has shape {got.shape}, three axes: {NEW_AXIS}",
            expected=_concat(h, x),
            got=got,
        )
    if got.shape == (h.shape[1] + x.shape[1], h.shape[0]) and np.allclose(
        got, np.vstack((h.T, x.T))
    ):
        fail(
            f"{what} has shape {got.shape}: h_{{t-1}}ᵀ and x_tᵀ were stacked as rows; "
            "stack the columns themselves, np.vstack((h_prev, x_t)), no transposes",
            expected=_concat(h, x),
            got=got,
        )
    if got.shape == (h.shape[0], h.shape[1] + x.shape[1]):
        fail(
            f"{what} has shape {got.shape}: h_{{t-1}} and x_t were put side by side "
            "(np.hstack or axis=1); stack them on top of each other (axis 0)",
            expected=_concat(h, x),
            got=got,
        )
    first = _concat(h, x)[:, :1]
    if h.shape[1] > 1 and got.shape == first.shape and np.allclose(got, first):
        fail(
            f"{what} has shape {got.shape} but expected {_concat(h, x).shape}: only the "
            "first column is kept ([:, :1], [:, 0] or a fixed reshape); every column is "
            "a sample, keep them all",
            expected=_concat(h, x),
            got=got,
        )
    if got.shape in (h.shape, x.shape):
        fail(
            f"{what} has shape {got.shape} but expected {_concat(h, x).shape}: the result "
            "holds all rows of h_{t-1} followed by all rows of x_t",
            expected=_concat(h, x),
            got=got,
        )


def test_seed_example(learner):
    """the seed's example: [0.2, 0.4] and [0.6, 0.1] give the column [0.2, 0.4, 0.6, 0.1]"""
    what = "concat([0.2, 0.4], [0.6, 0.1])"
    got = _run(learner, SEED_H, SEED_X)
    _diagnose_shape(got, SEED_H, SEED_X, what)
    expect_array(got, _concat(SEED_H, SEED_X), what=what, mistakes=_mistakes(SEED_H, SEED_X))


def test_hidden_first(learner):
    """h_{t-1} (3 rows) comes first, then x_t (2 rows): shape (5, 1)"""
    what = "concat(h_prev, x_t) with hidden = 3, input = 2"
    got = _run(learner, H, X)
    _diagnose_shape(got, H, X, what)
    expect_array(got, _concat(H, X), what=what, mistakes=_mistakes(H, X))


def test_batch_of_columns(learner):
    """a batch (one sample per column) stacks to (hidden + input, B)"""
    rng = np.random.default_rng(2)
    h = rng.normal(size=(3, 4))
    x = rng.normal(size=(2, 4))
    what = "concat of a batch, h_prev (3, 4) and x_t (2, 4)"
    got = _run(learner, h, x)
    if isinstance(got, np.ndarray) and got.shape in ((20, 1), (20,)):
        fail(
            f"{what} has shape {got.shape} but expected (5, 4): the batch was flattened "
            "into one column. Each column is a sample; stack along axis 0 without "
            "reshaping",
            expected=_concat(h, x),
            got=got,
        )
    _diagnose_shape(got, h, x, what)
    expect_array(got, _concat(h, x), what=what, mistakes=_mistakes(h, x))
