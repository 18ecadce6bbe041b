"""Hidden checks for lesson 19: the seed's NumPy LSTM weights in a Keras `LSTM` layer.

Shapes are diagnosed first (transposed, h/x parts swapped, bias not flat), then the
gate blocks (Keras order i, f, c, o), and finally Keras's LSTM with the learner's
weights must reproduce a NumPy unroll of the seed's equations to 1e-5. Keras's LSTM
is run as `keras_lstm`, its semantics in NumPy (tested against the real layer in
tests/test_keras_model.py), so grading never imports TensorFlow.
"""

import numpy as np

from workbook.grading.judge.expect import call, expect_array, fail, function
from workbook.grading.judge.keras_model import keras_lstm
from workbook.grading.judge.kerascheck import real_array

INPUT, HIDDEN, STEPS = 3, 2, 5
# The blocks and the Keras comparison also run at other sizes (input < hidden, other
# sequence lengths), so a size written into the code cannot pass, nor a hidden size
# computed from input_dim by a formula that happens to fit two of them (8 − 2 · input
# gives 2 for input 3 and 4 for input 2, but not 3 for input 4).
OTHER = (2, 4, 7)  # input, hidden, steps
MORE = ((4, 3, 6), (1, 5, 4))
SIZES = ((INPUT, HIDDEN, STEPS), OTHER, *MORE)
SEED_ORDER = ("f", "i", "c", "o")
KERAS_ORDER = ("i", "f", "c", "o")


def _params(seed=19, inputs=INPUT, hidden=HIDDEN):
    rng = np.random.default_rng(seed)
    params = {}
    for gate in SEED_ORDER:
        params[f"W_{gate}"] = rng.normal(scale=0.8, size=(hidden, hidden + inputs))
        params[f"b_{gate}"] = rng.normal(scale=0.5, size=(hidden, 1))
    return params


def _convert(params, order=KERAS_ORDER, h_first=True, transpose=True, reshape=False, split=None):
    """Reference conversion; the keywords also produce the known wrong answers (`split`:
    W cut at that column, a hidden size written into the code)."""
    inputs = params["W_f"].shape[1] - params["W_f"].shape[0]
    hidden = params["W_f"].shape[0] if split is None else split
    h_part = slice(0, hidden) if h_first else slice(inputs, inputs + hidden)
    x_part = slice(hidden, hidden + inputs) if h_first else slice(0, inputs)

    def block(W):
        if reshape:  # the right shape, but NumPy's row order: the weights scrambled
            return W.reshape(W.shape[::-1])
        return W.T if transpose else W

    kernel = np.concatenate([block(params[f"W_{g}"][:, x_part]) for g in order], axis=1)
    recurrent = np.concatenate([block(params[f"W_{g}"][:, h_part]) for g in order], axis=1)
    bias = np.concatenate([params[f"b_{g}"].ravel() for g in order])
    return kernel, recurrent, bias


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _unroll(params, xs):
    """The seed's equations, column vectors, h first in the concatenation."""
    hidden = params["W_f"].shape[0]
    h = np.zeros((hidden, 1))
    c = np.zeros((hidden, 1))
    outputs = []
    for x in xs:
        v = np.vstack((h, x.reshape(-1, 1)))
        f = _sigmoid(params["W_f"] @ v + params["b_f"])
        i = _sigmoid(params["W_i"] @ v + params["b_i"])
        c_tilde = np.tanh(params["W_c"] @ v + params["b_c"])
        o = _sigmoid(params["W_o"] @ v + params["b_o"])
        c = f * c + i * c_tilde
        h = o * np.tanh(c)
        outputs.append(h.ravel())
    return np.array(outputs)


def _weights(learner, params):
    convert = function(learner, "to_keras_weights")
    copy = {k: v.copy() for k, v in params.items()}
    weights = call(convert, copy, params["W_f"].shape[1] - params["W_f"].shape[0])
    if weights is None:
        fail("`to_keras_weights` returned None: did you forget a `return`?")
    if not isinstance(weights, list | tuple) or len(weights) != 3:
        fail(
            "`to_keras_weights` should return a list of three arrays: "
            "[kernel, recurrent_kernel, bias]"
        )
    return [
        real_array(w, name)
        for w, name in zip(weights, ("kernel", "recurrent_kernel", "bias"), strict=True)
    ]


def test_shapes(learner):
    """kernel is (3, 8), recurrent_kernel (2, 8), bias (8,) for input 3 and 2 units"""
    kernel, recurrent, bias = _weights(learner, _params())
    k_want, r_want, b_want = (INPUT, 4 * HIDDEN), (HIDDEN, 4 * HIDDEN), (4 * HIDDEN,)
    if kernel.shape == r_want and recurrent.shape == k_want:
        fail(
            "kernel and recurrent_kernel have each other's shapes: return them in the order "
            "[kernel, recurrent_kernel, bias], and mind that the seed's W acts on [h; x] with "
            "h FIRST, so W[:, :hidden] is the h part (recurrent_kernel) and W[:, hidden:] "
            "the x part (kernel)",
            expected=f"kernel {k_want}, recurrent_kernel {r_want}",
            got=f"kernel {kernel.shape}, recurrent_kernel {recurrent.shape}",
        )
    for array, want, name, multiplies in (
        (kernel, k_want, "kernel", "x_t"),
        (recurrent, r_want, "recurrent_kernel", "h_{t-1}"),
    ):
        if array.shape == want[::-1]:
            fail(
                f"{name} has shape {array.shape}: it looks transposed; Keras computes "
                f"{multiplies} @ {name}, so it needs shape {want}",
                expected=want,
                got=array.shape,
            )
        if array.shape != want and array.shape == (want[1] // 4, 4 * want[0]):
            fail(
                f"{name} has shape {array.shape}: each gate's block looks transposed; "
                f"Keras computes {multiplies} @ {name}, so every block must be "
                f"{(want[0], want[1] // 4)} before the four are placed side by side",
                expected=want,
                got=array.shape,
            )
        if array.shape != want:
            fail(
                f"{name} has shape {array.shape}, expected {want}: the four gates' blocks "
                "side by side (axis=1), each `units` columns wide",
                expected=want,
                got=array.shape,
            )
    if bias.shape != b_want:
        hint = "flatten it" if bias.size == 4 * HIDDEN else "one entry per gate and unit"
        fail(
            f"bias has shape {bias.shape}; Keras wants a flat vector {b_want} ({hint})",
            expected=b_want,
            got=bias.shape,
        )


def _cut_at(params, index, split):
    hidden = params["W_f"].shape[0]
    return (
        _convert(params, split=split)[index],
        f"W is cut at column {split}, but with {hidden} units its first {hidden} columns "
        "are the h part: take hidden from the weights (`W.shape[0]`), not a number or a "
        "formula in input_dim",
    )


def _order_mistakes(which, params):
    index = {"kernel": 0, "recurrent_kernel": 1, "bias": 2}[which]
    hidden, width = params["W_f"].shape
    # W cut at any other column: a hidden size written into the code, or computed from
    # input_dim; after the specific mistakes, which may produce the same arrays.
    others = [_cut_at(params, index, cut) for cut in range(width + 1) if cut not in (hidden,)]
    return [
        _cut_at(params, index, HIDDEN),
        (
            _convert(params, order=SEED_ORDER)[index],
            "the gates are in the seed's order f, i, c, o; Keras stacks them as i, f, c, o",
        ),
        (
            _convert(params, order=("i", "f", "o", "c"))[index],
            "the last two blocks are o, c; Keras's order is i, f, c, o",
        ),
        (
            _convert(params, transpose=False)[index],
            "each gate's block is not transposed: Keras multiplies h_{t-1} @ recurrent_kernel, "
            "so every block is the seed's h part transposed",
        ),
        (
            _convert(params, h_first=False)[index],
            "this takes x from the first columns of W; the seed concatenates [h; x], h first",
        ),
        (
            _convert(params, reshape=True)[index],
            "each gate's block is reshaped, not transposed: `reshape` keeps NumPy's row "
            "order, so the shape is right but the weights are scrambled; use `.T`",
        ),
        *others,
    ]


def test_gate_blocks(learner):
    """each gate's block sits where Keras expects it, in the order i, f, c, o

    Input 3 with 2 units, input 2 with 4, input 4 with 3 and input 1 with 5: a size
    that fits two of these by a formula in input_dim does not fit the others."""
    for seed, (inputs, hidden, _) in zip((19, 91, 190, 919), SIZES, strict=True):
        params = _params(seed, inputs, hidden)
        kernel, recurrent, bias = _weights(learner, params)
        want_kernel, want_recurrent, want_bias = _convert(params)
        # recurrent_kernel first: where W is cut (the units) shows there most plainly.
        for name, array, expected in (
            ("recurrent_kernel", recurrent, want_recurrent),
            ("kernel", kernel, want_kernel),
            ("bias", bias, want_bias),
        ):
            expect_array(
                array,
                expected,
                what=f"{name} (input {inputs}, {hidden} units)",
                mistakes=_order_mistakes(name, params),
            )


def test_keras_matches_numpy(learner):
    """a Keras LSTM with these weights matches the NumPy LSTM to 1e-5 (4 sizes, 4 to 7 steps)"""
    for seed, (inputs, hidden, steps) in zip((1919, 1991, 9119, 9191), SIZES, strict=True):
        _keras_matches(learner, _params(seed, inputs, hidden), steps)


def _keras_matches(learner, params, steps):
    kernel, recurrent, bias = _weights(learner, params)
    inputs = params["W_f"].shape[1] - params["W_f"].shape[0]
    xs = np.random.default_rng(7).normal(size=(steps, inputs))
    try:
        got = keras_lstm(xs[None], kernel, recurrent, bias)[0][0]
    except (TypeError, ValueError) as exc:
        fail(f"Keras would refuse these weights: {exc}")
    wrong_order = {**params, "W_f": params["W_i"], "W_i": params["W_f"]}
    wrong_order.update(b_f=params["b_i"], b_i=params["b_f"])
    expect_array(
        got,
        _unroll(params, xs),
        what=f"the Keras LSTM's hidden states h_1 … h_{steps} (input {inputs})",
        mistakes=[
            (
                _unroll(wrong_order, xs),
                "forget and input gates are swapped: Keras's order is i, f, c, o",
            ),
        ],
        rtol=1e-5,
        atol=1e-5,
    )
