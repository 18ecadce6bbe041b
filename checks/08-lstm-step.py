"""Hidden checks for lesson 8: the full lstm_step against the seed's printed numbers."""

import functools
from itertools import permutations

import numpy as np

from workbook.grading.judge.expect import (
    approximation_mistakes,
    call,
    expect_array,
    expect_pair,
    fail,
    fail_on_size_in_code,
    function,
    helper_message,
    learner_activation,
)

GATES = {"f": "forget gate", "i": "input gate", "c": "candidate", "o": "output gate"}
# The seed printed these (8 significant digits), so they are compared at that precision.
SEED_H = np.array([[-0.07794162], [-0.06642324]])
SEED_C = np.array([[-0.1448926], [-0.12589963]])
SEED_X = np.array([[0.5], [0.1], [0.9]])
PRINTED = 1e-7


def _sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _draw(rng, input_dim, hidden_dim):
    """Weights in the seed's drawing order: W_f, W_i, W_c, W_o, then b_f … b_o."""
    params = {f"W_{g}": rng.randn(hidden_dim, hidden_dim + input_dim) for g in "fico"}
    params.update({f"b_{g}": rng.randn(hidden_dim, 1) for g in "fico"})
    return params


def _seed_params():
    """The seed's parameters: np.random.seed(42), then randn in the seed's order."""
    return _draw(np.random.RandomState(42), 3, 2)


def _step(
    x, h, c, p, *, source=None, order="hx", squash=True, cand="tanh", gate_order=None, reveal=None,
    sig=_sig, tanh=np.tanh, reads_c=None,
):  # fmt: skip
    """Private reference; the keywords build the usual wrong variants.

    source maps a gate letter to the (W, b) letters it reads, e.g. {"f": ("i", "f")}
    for a forget gate computed with W_i and b_f; gate_order names one gate that reads
    [x_t, h_{t-1}]; cand "sigmoid" squashes the candidate with σ; reveal "C_prev" or
    "C_tilde" puts that array where h_t needs C_t; reads_c names one gate given C_prev
    where h_prev belongs.
    """
    source = source or {}

    def pre(g):
        w, b = source.get(g, (g, g))
        state = c if g == reads_c else h
        first, second = (state, x) if order == "hx" and g != gate_order else (x, state)
        return p[f"W_{w}"] @ np.vstack((first, second)) + p[f"b_{b}"]

    f, i, o = sig(pre("f")), sig(pre("i")), sig(pre("o"))
    c_tilde = tanh(pre("c")) if cand == "tanh" else sig(pre("c"))
    c_new = f * c + i * c_tilde if reveal != "args" else f * c_tilde + i * c
    shown = {None: c_new, "args": c_new, "C_prev": c, "C_tilde": c_tilde}[reveal]
    return o * (tanh(shown) if squash else shown), c_new


def _mixups():
    """(source, message) for each gate reading another gate's weights and/or bias.

    One gate copy-pasted comes before two gates swapped: at zero states the forget gate
    has no effect (C_{t-1} = 0), so a copy-pasted input gate gives the same numbers as a
    swap there, and the simpler diagnosis is the one to give.
    """
    single, swaps = [], []
    for g, other in permutations("fico", 2):
        own = f"each gate has its own weights: the {GATES[g]} uses W_{g} and b_{g}"
        single.append(({g: (other, g)}, f"the {GATES[g]} seems to use W_{other}; {own}"))
        single.append(
            ({g: (other, other)}, f"the {GATES[g]} seems to use W_{other} and b_{other}; {own}")
        )
        if g < other:
            swaps.append(
                (
                    {g: (other, other), other: (g, g)},
                    f"the {GATES[g]} and the {GATES[other]} seem to have swapped their "
                    f"weights; {own}",
                )
            )
    return single + swaps


def _variants(x, h, c, p):
    """The usual wrong (h_t, C_t) pairs, each with what went wrong."""
    zeros_h, zeros_c = np.zeros_like(h), np.zeros_like(c)
    found = [(_step(x, h, c, p, source=s), m) for s, m in _mixups()]
    found += [
        (
            _step(x, h, c, p, order="xh"),
            "looks like [x_t, h_{t-1}]: the seed concatenates h first, np.vstack((h_prev, x_t))",
        ),
        (_step(x, h, c, p, squash=False), "h_t uses C_t; it should use tanh(C_t)"),
        (
            _step(x, h, zeros_c, p),
            "C_t does not build on the given C_prev (it looks like the memory starts from "
            "zeros): the update is f_t ⊙ C_{t-1} + i_t ⊙ C̃_t with the C_prev passed in",
        ),
        (
            _step(x, h, h, p),
            "C_t builds on h_prev where C_prev belongs: the update is f_t ⊙ C_{t-1} + "
            "i_t ⊙ C̃_t, with the cell state C_prev (h_prev only enters the gates)",
        ),
        (
            _step(x, zeros_h, c, p),
            "the gates ignore the given h_prev (it looks like zeros): they read "
            "[h_{t-1}, x_t] with the h_prev passed in",
        ),
        (
            _step(x, c, c, p),
            "the gates read C_{t-1} where h_{t-1} belongs: concatenate h_prev with x_t",
        ),
        (
            _step(x, h, c, p, cand="sigmoid"),
            "the candidate C̃_t is squashed with σ; it uses tanh, so that it can propose "
            "negative values (candidate(), not a gate function)",
        ),
        (
            _step(x, h, c, p, reveal="C_prev"),
            "h_t reveals the old cell state C_prev; it is o_t ⊙ tanh(C_t) with the new C_t",
        ),
        (
            (_step(x, h, c, p)[0] + h, _step(x, h, c, p)[1]),
            "h_{t-1} is added to h_t: h_t = o_t ⊙ tanh(C_t) alone (the old state reaches "
            "h_t through the gates and the cell state)",
        ),
        (
            _step(x, h, c, p, reveal="args"),
            "f_t scaled the candidate and i_t the old memory: in the call "
            "cell_update(f_t, i_t, C_tilde, C_prev), f_t and i_t, or C_tilde and C_prev, "
            "are in the wrong order",
        ),
        (
            _step(x, h, c, p, reveal="C_tilde"),
            "h_t reveals the candidate C̃_t; it is o_t ⊙ tanh(C_t) with the new C_t",
        ),
    ]
    found += [
        (
            _step(x, h, c, p, gate_order=g),
            f"the {GATES[g]} reads [x_t, h_{{t-1}}]: check the order of h_prev and x_t "
            "in its call (every gate takes h_prev, then x_t)",
        )
        for g in "fico"
    ]
    found += [
        (
            _step(x, h, c, p, reads_c=g),
            f"the {GATES[g]} is given C_prev where h_prev belongs: every gate reads "
            "[h_{t-1}, x_t], the hidden state, not the cell state",
        )
        for g in "fico"
    ]
    return found


def _activation_variants(learner, x, h, c, p):
    """σ or tanh replaced: the file's own helper changed, or an approximation written in."""
    sig = learner_activation(learner, "sigmoid", "sigmoid")
    tanh = learner_activation(learner, "tanh", "tanh")
    found = []
    if sig is not None or tanh is not None:
        helpers = {"sig": sig or _sig, "tanh": tanh or np.tanh}
        message = " ".join(
            helper_message(learner, name, name) for name, h_ in (("sigmoid", sig), ("tanh", tanh))
            if h_ is not None
        )  # fmt: skip
        found.append((_step(x, h, c, p, **helpers), message))
    found += approximation_mistakes("sigmoid", lambda act: _step(x, h, c, p, sig=act))
    found += approximation_mistakes("tanh", lambda act: _step(x, h, c, p, tanh=act))
    return found


def _close(a, b, rtol, atol):
    if not isinstance(a, np.ndarray) or a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _expect_step(learner, x, h, c, p, *, what, expected=None, rtol=1e-5, atol=1e-8):
    """Run the learner's lstm_step and diagnose the whole (h_t, C_t) pair."""
    lstm_step = function(learner, "lstm_step")
    params = {key: value.copy() for key, value in p.items()}
    try:
        result = call(lstm_step, x.copy(), h.copy(), c.copy(), params)
    except (ValueError, IndexError) as exc:
        fail_on_size_in_code(exc, hidden=h.shape[0], input=x.shape[0], batch=x.shape[1])
        raise
    got_h, got_c = expect_pair(result, "lstm_step", ("h_t", "C_t"))
    want_h, want_c = expected if expected is not None else _step(x, h, c, p)
    ok = _close(got_h, want_h, rtol, atol) and _close(got_c, want_c, rtol, atol)
    if not ok and _close(got_h, want_c, rtol, atol) and _close(got_c, want_h, rtol, atol):
        fail(f"{what}: lstm_step returned (C_t, h_t); the seed returns (h_t, C_t), h first")
    if not ok:
        variants = _variants(x, h, c, p) + _activation_variants(learner, x, h, c, p)
        named = [
            message
            for (var_h, var_c), message in variants
            if _close(got_h, var_h, rtol, atol) and _close(got_c, var_c, rtol, atol)
        ]
        confirmed = _confirmed(learner)
        if len(named) > 1 and confirmed and set(named) & confirmed:
            named = [message for message in named if message in confirmed]
        if named:  # mistakes with the same numbers here: all (up to 3), joined with "or"
            fail(f"{what}: " + "; or ".join(dict.fromkeys(named[:3])), expected=want_h, got=got_h)
    expect_array(got_h, want_h, what=f"h_t ({what})", rtol=rtol, atol=atol)
    expect_array(got_c, want_c, what=f"C_t ({what})", rtol=rtol, atol=atol)
    return got_h, got_c


def test_seed_numbers(learner):
    """reproduces the seed's printed h_next and C_next (seed 42, zero states)"""
    zeros = np.zeros((2, 1))
    _expect_step(
        learner,
        SEED_X,
        zeros,
        zeros,
        _seed_params(),
        what="the seed's example",
        expected=(SEED_H, SEED_C),
        rtol=0.0,
        atol=PRINTED,
    )


def _nonzero_setup():
    """(x, h, c, params) with non-zero states and a batch of 5: most mistakes that give
    the same numbers at zero states differ here."""
    rng = np.random.RandomState(2024)
    p = _draw(rng, 4, 3)
    x = rng.uniform(-1.0, 1.0, (4, 5))
    h = rng.uniform(-0.9, 0.9, (3, 5))
    c = rng.normal(0.0, 1.5, (3, 5))
    return x, h, c, p


@functools.cache
def _confirmed(learner) -> frozenset[str]:
    """The known mistakes that give the learner's numbers with non-zero states: where a
    set-up cannot tell mistakes apart, only those are named (empty when none is)."""
    x, h, c, p = _nonzero_setup()
    try:
        got = call(function(learner, "lstm_step"), x.copy(), h.copy(), c.copy(), dict(p))
        got_h, got_c = got
    except Exception:  # the check of that set-up says what went wrong
        return frozenset()
    variants = _variants(x, h, c, p) + _activation_variants(learner, x, h, c, p)
    return frozenset(
        message
        for (var_h, var_c), message in variants
        if _close(np.asarray(got_h), var_h, 1e-5, 1e-8)
        and _close(np.asarray(got_c), var_c, 1e-5, 1e-8)
    )


def test_nonzero_states_batch(learner):
    """a second set-up: non-zero h_prev and C_prev, a batch of 5 columns"""
    x, h, c, p = _nonzero_setup()
    _expect_step(learner, x, h, c, p, what="non-zero states, batch of 5")


def test_three_steps(learner):
    """carries (h_t, C_t) through three time steps of a sequence"""
    rng = np.random.RandomState(8)
    p = _draw(rng, 2, 3)
    h, c = np.zeros((3, 1)), np.zeros((3, 1))
    for t, x in enumerate(rng.uniform(-1.0, 1.0, (3, 2, 1)), start=1):
        want = _step(x, h, c, p)
        h, c = _expect_step(learner, x, h, c, p, what=f"time step {t} of 3", expected=want)
