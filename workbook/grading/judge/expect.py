"""Helpers for hidden checks: layered comparisons that end in a learner-facing diagnosis.

A check fails by raising `CheckFailure` with a sentence written for the learner,
optionally with expected/got values; the grading plugin shows that sentence instead
of a traceback. Array checks go layer by layer (defined, ndarray, shape, finite,
close) and, when values differ, test known wrong answers first so the message can
name the mistake ("values match tanh where sigmoid belongs").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import numpy as np

RTOL = 1e-5
ATOL = 1e-8

# The comparison runs on ufuncs bound once. Learner code never runs in the judge's
# process (it runs in the subject, see workbook/grading/subject/server.py), so nothing here
# can be patched by it; the judge only ever sees plain data.
_absolute, _subtract, _add, _multiply = np.absolute, np.subtract, np.add, np.multiply
_less_equal, _isfinite, _as_float = np.less_equal, np.isfinite, np.asarray


def _close(got: Any, expected: Any, rtol: float, atol: float) -> Any:
    """|got − expected| ≤ atol + rtol·|expected|, element-wise (numpy.isclose's rule)."""
    got, expected = _as_float(got, dtype=float), _as_float(expected, dtype=float)
    return _less_equal(
        _absolute(_subtract(got, expected)), _add(atol, _multiply(rtol, _absolute(expected)))
    )


def _all_close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    return bool(_close(got, expected, rtol, atol).all())


# Where `plot` sends a figure: set by the grading plugin for the attempt's report.
plot_sink: Callable[[dict[str, Any]], None] | None = None


def _plain_floats(values: Any) -> list[float | None]:
    """JSON-ready numbers; NaN and infinities become None (a gap in the line)."""
    flat = np.asarray(values, dtype=float).reshape(-1)
    # One vectorised test, not one ufunc call per point (3 ms of a lesson-1 attempt).
    finite = _isfinite(flat).tolist()
    return [v if ok else None for v, ok in zip(flat.tolist(), finite, strict=True)]


def plot(
    title: str,
    series: Iterable[tuple[str, Any, Any]],
    *,
    x_label: str = "",
    y_label: str = "",
    log_y: bool = False,
) -> None:
    """Show the learner a plot of their own numbers next to the verdict.

    `series` are (name, x, y). Checks compute them in the judge from plain data the
    learner's functions returned, so a plot never runs learner code. Where nothing
    draws plots (a plain `workbook check`), this costs a list conversion."""
    figure = {
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "log_y": bool(log_y),
        "series": [
            {"name": name, "x": _plain_floats(x), "y": _plain_floats(y)} for name, x, y in series
        ],
    }
    if plot_sink is not None:
        plot_sink(figure)


class CheckFailure(AssertionError):
    def __init__(self, message: str, *, expected: Any = None, got: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = None if expected is None else show(expected)
        self.got = None if got is None else show(got)


def fail(message: str, *, expected: Any = None, got: Any = None) -> NoReturn:
    raise CheckFailure(message, expected=expected, got=got)


def show(value: Any, limit: int = 6, start: int = 0) -> str:
    """Short, readable rendering: a few entries from flat position `start` (so that a
    difference deep inside an array is in view), enough digits to see it, the shape."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        start = max(0, min(start, flat.size - limit))
        body = np.array2string(
            flat[start : start + limit],
            precision=8,
            separator=", ",
            suppress_small=False,
            max_line_width=200,
        )
        if start > 0:
            body = f"[…, {body[1:]}"
        if flat.size > start + limit:
            body = body[:-1] + ", …]"
        where = f"entries {start}–{start + limit - 1} of " if start > 0 else ""
        return f"{body} ({where}shape {value.shape})"
    return repr(value)


def function(learner: Any, name: str) -> Callable:
    """The learner's function `name`, or a failure that says it is missing."""
    found = getattr(learner, name, None)
    if found is None:
        fail(f"define a function named `{name}` (it is missing from your file)")
    if not callable(found):
        kind = getattr(found, "type_name", None) or type(found).__name__
        fail(f"`{name}` should be a function, but it is a {kind}")
    return found


def call(func: Callable, *args: Any, forbid_warnings: bool = False, **kwargs: Any) -> Any:
    """Call learner code; optionally turn NumPy's runtime warnings into a failure.

    A learner function runs in the subject process, so the warnings are turned into
    errors there (`strict_float`); a plain Python callable gets the same treatment here."""
    if not forbid_warnings:
        return func(*args, **kwargs)
    invoke = getattr(func, "invoke", None)
    if invoke is not None:
        try:
            return invoke(args, kwargs, strict_float=True)
        except (RuntimeWarning, FloatingPointError) as exc:
            fail(
                f"`{func.__name__}` triggered a NumPy warning ({exc}); it must stay "
                "finite and warning-free"
            )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                return func(*args, **kwargs)
        except (RuntimeWarning, FloatingPointError) as exc:
            fail(
                f"`{func.__name__}` triggered a NumPy warning ({exc}); it must stay "
                "finite and warning-free"
            )


def _is_column_vs_flat(got: np.ndarray, expected: np.ndarray) -> bool:
    return expected.ndim == 2 and expected.shape[1] == 1 and got.shape == (expected.shape[0],)


# Results computed in float32 are compared at float32's precision: about 7 significant
# digits per operation, fewer after a few steps of a recurrence (a float32 GRU differs
# from a float64 one by ~1e-6 relative after 5 steps). Every known mistake changes
# values far more than this, so widening the tolerance names the same mistakes.
F32_RTOL, F32_ATOL = 1e-4, 1e-6
SINGLE_PRECISION = ("float32", "float16")
NUMBER_KINDS = (
    "a float (a NumPy scalar such as np.float64 or np.float32, or a 0-d array, also does)"
)
# What an answer computed in the learner's file may be: a count is an int, a rate a float.
ANSWER_KINDS = "a number: an int or a float, or a NumPy scalar (np.int64, np.float64, …)"


def tolerance(got: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> tuple:
    """(rtol, atol) for comparing `got`: as given, or float32's precision when the
    learner's result is float32 (float16 too: it is refused later, if it misses)."""
    dtype = getattr(got, "dtype", None)
    if dtype is None or dtype.name not in SINGLE_PRECISION:
        return rtol, atol
    scale = float(np.max(np.abs(expected), initial=1.0))
    return max(rtol, F32_RTOL), max(atol, F32_ATOL * scale)


def gradient_tolerance(got: Any, tolerance: float = 1e-6) -> float:
    """The relative error a gradient check allows `got`: as given, or float32's (1e-4)
    when the learner's gradient is float32; every known mistake is off by far more."""
    dtype = getattr(got, "dtype", None)
    if dtype is not None and dtype.name in SINGLE_PRECISION:
        return max(tolerance, 1e-4)
    return tolerance


def _matching(
    got: np.ndarray, mistakes: Sequence[tuple[Any, str]], rtol: float, atol: float
) -> str | None:
    """The message of the first known mistake whose value `got` matches (same shape);
    when a second, different mistake gives the same values here, both ("…; or …"), so
    that no diagnosis claims more than the values show."""
    found: list[str] = []
    for candidate, message in mistakes:
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape == got.shape and _all_close(got, candidate, rtol, atol):
            if message not in found:
                found.append(message)
            if len(found) == 2:
                break
    return "; or ".join(found) if found else None


def _proportion(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> float | None:
    """c when every entry of `got` is c times the expected one (c ≠ 1, c ≠ 0), else None.

    Needs at least two clearly non-zero expected entries, so that one number alone is
    not read as a pattern."""
    flat_e, flat_g = expected.reshape(-1), got.reshape(-1)
    big = np.abs(flat_e) > max(10 * atol, 1e-12)
    if big.sum() < 2:
        return None
    ratio = float(np.median(flat_g[big] / flat_e[big]))
    if abs(ratio) < 1e-9 or abs(ratio - 1.0) <= 10 * rtol:
        return None
    return ratio if _all_close(got, ratio * expected, rtol, atol) else None


def _rounded(got: np.ndarray, expected: np.ndarray) -> int | None:
    """k when `got` is `expected` rounded to k decimal places (k = 1 … 8), else None."""
    for digits in range(1, 9):
        if np.array_equal(got, np.round(expected, digits)) and not np.array_equal(got, expected):
            return digits
    return None


def _ratio_text(ratio: float) -> str:
    """What a constant factor between the result and the expected values usually means."""
    if abs(ratio + 1.0) < 1e-6:
        return "every entry has the opposite sign: a sign is flipped somewhere"
    shown = f"{ratio:.6g}"
    for n in range(2, 65):
        if abs(ratio - 1.0 / n) < 1e-6 * abs(ratio):
            return (
                f"every entry is 1/{n} of the expected one: something is divided by {n}, "
                f"e.g. a mean over {n} items where their sum belongs"
            )
        if abs(ratio - n) < 1e-6 * n:
            return (
                f"every entry is {n} times the expected one: a factor {n} too many, e.g. a "
                f"sum over {n} items where their mean belongs, or something counted {n} times"
            )
        if abs(ratio + 1.0 / n) < 1e-6 * abs(ratio) or abs(ratio + n) < 1e-6 * n:
            return f"every entry is {shown} times the expected one: a sign and a factor are off"
    return f"every entry is {shown} times the expected one: a constant factor is off"


def _precision_note(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """What to say of a float64 result that agrees only to float32's precision ("" when
    it does not): a computation partly in float32, or else a tiny term off."""
    worst = float(np.max(np.abs(got - expected) / (np.abs(expected) + 1e-300)))
    f32_rtol, f32_atol = tolerance(np.zeros(0, np.float32), expected, rtol, atol)
    if not _all_close(got, expected, f32_rtol, f32_atol):
        return ""
    return (
        f" only to about float32's precision (largest relative difference {worst:.1g}): is "
        "part of the computation in float32 (np.float32, astype(np.float32), a float32 "
        "array)? Then compute in float64, NumPy's default, or return the float32 result "
        "itself (float32 results are compared at float32 precision). If not, a tiny term "
        "is off (an epsilon added somewhere?)"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def expect_array(
    got: Any,
    expected: Any,
    *,
    what: str,
    mistakes: Iterable[tuple[Any, str]] | Callable[[], Iterable[tuple[Any, str]]] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
) -> np.ndarray:
    """Compare `got` with `expected`, failing with the most specific message we can give.

    `mistakes` are (value, message) pairs: the results of known wrong answers. When
    `got` matches one within tolerance, its message is the diagnosis, whether or not
    its shape is the expected one (a mistake can change the shape). They may be given
    as a function that returns them, called only when `got` is wrong (costly ones:
    whole forward passes). A result computed in float32 is compared at float32's
    precision (see `tolerance`). An expected value of shape () is a single number: a
    float, a NumPy scalar or a 0-d array all match it.
    """
    expected = np.asarray(expected, dtype=float)
    if not callable(mistakes):
        mistakes = list(mistakes)
    if got is None:
        fail(f"{what} is None: did you forget a `return`?", expected=expected)
    if expected.ndim == 0 and not _is_number(got) and not isinstance(got, np.ndarray):
        fail(f"{what} should be a single number, {NUMBER_KINDS}; not {show(got)[:60]}")
    if isinstance(got, tuple | list) and not isinstance(got, np.ndarray):
        fail(f"{what} should be a NumPy array, not a {type(got).__name__}", expected=expected)
    got = np.asarray(got)
    if not np.issubdtype(got.dtype, np.number) or np.issubdtype(got.dtype, np.complexfloating):
        fail(f"{what} should hold real numbers, but its dtype is {got.dtype}")
    rtol, atol = tolerance(got, expected, rtol, atol)
    if got.shape != expected.shape:
        if _isfinite(got.astype(float)).all():
            mistakes = list(mistakes()) if callable(mistakes) else mistakes
            message = _matching(got.astype(float), mistakes, rtol, atol)
            if message:
                fail(f"{what}: {message}", expected=expected, got=got)
        if expected.ndim == 0:
            fail(
                f"{what} should be a single number, {NUMBER_KINDS}; it is an array of "
                f"shape {got.shape}"
                + (": `float(…)` of it gives the number" if got.size == 1 else ""),
                expected=expected,
                got=got,
            )
        if _is_column_vs_flat(got, expected):
            fail(
                f"{what} has shape {got.shape} but expected {expected.shape}: keep column "
                "vectors (n, 1) as in the seed; avoid flattening or 1-D arrays",
                expected=expected,
                got=got,
            )
        if got.shape == expected.shape[::-1]:
            fail(
                f"{what} has shape {got.shape} but expected {expected.shape}: it looks transposed",
                expected=expected,
                got=got,
            )
        fail(
            f"{what} has shape {got.shape} but expected {expected.shape}",
            expected=expected,
            got=got,
        )
    low_precision = got.dtype.name in SINGLE_PRECISION
    dtype = got.dtype.name
    got = got.astype(float)
    if not _isfinite(got).all():
        fail(f"{what} contains NaN or infinity", expected=expected, got=got)
    if _all_close(got, expected, rtol, atol):
        return got
    mistakes = list(mistakes()) if callable(mistakes) else mistakes
    message = _matching(got, mistakes, rtol, atol)
    if message:
        fail(f"{what}: {message}", expected=expected, got=got)
    ratio = _proportion(got, expected, rtol, atol)
    if ratio is not None:
        fail(f"{what}: {_ratio_text(ratio)}", expected=expected, got=got)
    digits = _rounded(got, expected)
    if digits is not None:
        fail(
            f"{what} agrees with the expected values only to {digits} decimal places: the "
            "values seem rounded (round(), np.round or numbers typed in); return them at "
            "full precision",
            expected=expected,
            got=got,
        )
    note = "" if low_precision else _precision_note(got, expected, rtol, atol)
    if note:
        fail(f"{what} agrees with the expected values{note}", expected=expected, got=got)
    if dtype == "float16":
        fail(
            f"{what} is float16, which keeps only about 3 significant digits: compute in "
            "float64, NumPy's default, or at least float32",
            expected=expected,
            got=got,
        )
    diff = np.abs(got - expected)
    if got.ndim >= 2:
        _fail_on_grid(got, expected, diff, what, rtol, atol)
    worst = int(np.argmax(diff))
    where = np.unravel_index(worst, diff.shape)
    at = tuple(int(i) for i in where)
    first_off = int(np.argmax(~_close(got, expected, rtol, atol).reshape(-1)))
    place = f" at index {at}" if at else ""
    fail(
        f"{what} differs from the expected values: the largest difference is "
        f"{diff[where]:.3g}{place} (expected {expected[where]:.8g}, got "
        f"{got[where]:.8g}; tolerance rtol={rtol:g}, atol={atol:g})",
        expected=show(expected, start=first_off - 1),
        got=show(got, start=first_off - 1),
    )


def expect_scalar(
    got: Any,
    expected: float,
    *,
    what: str,
    mistakes: Iterable[tuple[float, str]] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
) -> float:
    """A single number computed by learner code (a loss, a norm): a Python float or int,
    a NumPy scalar (np.float64, np.float32, …) or a 0-d array all pass when the value is
    right; an array of another shape is told to become one number."""
    value = expect_array(
        got, np.asarray(expected, dtype=float), what=what, mistakes=mistakes, rtol=rtol, atol=atol
    )
    return float(value)


def _position(index: tuple[int, ...]) -> str:
    """(row, column) for a matrix; in a stack of matrices, which one and where in it."""
    if len(index) == 2:
        return f"(row {index[0]}, column {index[1]})"
    return f"(row {index[-2]}, column {index[-1]}) of matrix {list(index[:-2])}"


def _window(value: np.ndarray, row: int, col: int, rows: int = 4, cols: int = 6) -> str:
    """The rows and columns around (row, col) of a matrix, as a matrix, with its shape,
    so that a batch reads one sample per column instead of as a flattened list. A
    matrix at most two rows (columns) larger than the window is shown whole that way:
    leaving out one row of five hid more than it saved. The note names only the axes
    that were cut (rows and columns counted from 0, as in the positions above)."""
    rows = value.shape[0] if value.shape[0] <= rows + 2 else rows
    cols = value.shape[1] if value.shape[1] <= cols + 2 else cols
    top = max(0, min(row - 1, value.shape[0] - rows))
    left = max(0, min(col - 2, value.shape[1] - cols))
    part = value[top : top + rows, left : left + cols]
    body = np.array2string(part, precision=8, separator=", ", max_line_width=200)
    cuts = []
    if part.shape[0] != value.shape[0]:
        cuts.append(f"rows {top}–{top + part.shape[0] - 1}")
    if part.shape[1] != value.shape[1]:
        cuts.append(f"columns {left}–{left + part.shape[1] - 1}")
    where = f"{', '.join(cuts)} of " if cuts else ""
    return f"{body} ({where}shape {value.shape})"


def _fail_on_grid(
    got: np.ndarray, expected: np.ndarray, diff: np.ndarray, what: str, rtol: float, atol: float
) -> NoReturn:
    """The differences of a matrix (or a stack of them) by position, largest first."""
    off = ~_close(got, expected, rtol, atol)
    order = np.argsort(-diff, axis=None, kind="stable")[: min(3, int(off.sum()))]
    spots = [tuple(int(i) for i in np.unravel_index(k, diff.shape)) for k in order]
    listed = "; ".join(
        f"{_position(s)}: expected {expected[s]:.8g}, got {got[s]:.8g}" for s in spots
    )
    count = f"{int(off.sum())} of {off.size} entries differ"
    largest = "the largest differences are at" if len(spots) > 1 else "the difference is at"
    worst = spots[0]
    shown_expected, shown_got = (_window(v[worst[:-2]], *worst[-2:]) for v in (expected, got))
    if got.ndim > 2:  # the matrix that holds the largest difference
        matrix = list(worst[:-2])
        shown_expected, shown_got = f"{matrix}: {shown_expected}", f"{matrix}: {shown_got}"
    fail(
        f"{what} differs from the expected values ({count}; tolerance rtol={rtol:g}, "
        f"atol={atol:g}); {largest} {listed}",
        expected=shown_expected,
        got=shown_got,
    )


def expect_pair(result: Any, what: str, names: Sequence[str]) -> tuple:
    """`result` must be a tuple of len(names), e.g. `(h_t, C_t)`."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        fail(
            f"{what} should return {len(names)} values ({', '.join(names)}), "
            f"got {show(result)[:80]}"
        )
    return tuple(result)


def expect_dict(
    got: Any,
    expected: dict[str, Any],
    *,
    what: str,
    mistakes: dict[str, Iterable[tuple[Any, str]]] | None = None,
    extra_keys: bool = False,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> dict[str, Any]:
    """A dict result, e.g. `{"W": …, "b": …}` or `{"loss": 0.3, "epochs": 5}`: a dict
    (not None, not a tuple), with exactly the expected keys (`extra_keys`: more are
    allowed), each value compared as `expect_array` does (numbers and arrays, with the
    known wrong answers of `mistakes[key]`) or with `==` (anything else). A value that
    belongs under another key is named as such. Returns the learner's values."""
    mistakes = mistakes or {}
    keys = ", ".join(repr(key) for key in expected)
    if got is None:
        fail(f"{what} is None: did you forget a `return`? It should be a dict with {keys}")
    if not isinstance(got, dict):
        fail(f"{what} should be a dict with the keys {keys}, not a {type(got).__name__}")
    missing = [key for key in expected if key not in got]
    extra = [key for key in got if key not in expected]
    if missing:
        named = ", ".join(repr(key) for key in missing)
        there = f" (it has {', '.join(repr(key) for key in extra)})" if extra else ""
        fail(f"{what} lacks the key{'s' if len(missing) > 1 else ''} {named}{there}")
    if extra and not extra_keys:
        named = ", ".join(repr(key) for key in extra)
        fail(f"{what} has {named} besides the keys it should have ({keys})")
    for key, value in expected.items():
        here = f"{what}[{key!r}]"
        mine = got[key]
        numeric = isinstance(value, np.ndarray) or _is_number(value)
        if numeric and not _matches(mine, value, rtol, atol):
            for other, theirs in expected.items():
                if other != key and _matches(mine, theirs, rtol, atol):
                    fail(f"{here} holds the value that belongs under {other!r}")
        if numeric:
            known = mistakes.get(key, ())
            expect_array(mine, value, what=here, mistakes=known, rtol=rtol, atol=atol)
        elif type(mine) is not type(value) or mine != value:
            fail(f"{here} should be {value!r}, not {mine!r:.60}", expected=value, got=mine)
    return {key: got[key] for key in expected}


def _matches(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Whether `got` is numbers of `expected`'s shape, close to it (never raises)."""
    try:
        mine, theirs = _as_float(got, dtype=float), _as_float(expected, dtype=float)
        return mine.shape == theirs.shape and _all_close(mine, theirs, rtol, atol)
    except (TypeError, ValueError):
        return False


def _shape(numpy_text: str) -> str:
    """NumPy's "(3,1)" as the checks write shapes elsewhere: "(3, 1)"."""
    return str(tuple(int(n) for n in re.findall(r"\d+", numpy_text)))


def call_in_place(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call learner code so that arrays it changes in place change in `args` too, as
    in one process. Only for checks that pass fresh copies and then ask whether the
    learner left them alone: elsewhere learner code must not touch the judge's arrays."""
    invoke = getattr(func, "invoke", None)
    if invoke is None:
        return func(*args, **kwargs)
    return invoke(args, kwargs, write_back=True)


def call_elementwise(
    func: Callable, *args: Any, what: str, in_place: bool = False, **kwargs: Any
) -> Any:
    """Call learner code that should use ⊙ (NumPy's `*`) and name a matrix product.

    `np.dot` / `@` on two same-shaped arrays (columns, or a batch of them) raises a
    shape error deep inside NumPy; the learner needs to hear that ⊙ is element-wise,
    not the error text. `in_place`: see `call_in_place`.
    """
    try:
        return call_in_place(func, *args, **kwargs) if in_place else func(*args, **kwargs)
    except ValueError as exc:
        text = str(exc)
        if "matmul" in text or "not aligned" in text:
            shapes = re.search(r"shapes (\([\d, ]*\)) and (\([\d, ]*\)) not aligned", text)
            of = f" of shapes {_shape(shapes[1])} and {_shape(shapes[2])}" if shapes else ""
            fail(
                f"{what}: NumPy refused a matrix product{of}. ⊙ is the element-wise "
                "product, `*` in NumPy; `@` and `np.dot` are matrix products"
            )
        shapes = ", ".join(str(np.shape(a)) for a in args)
        fail_on_size_in_code(exc, here=f"the arguments have shapes {shapes}")
        fail_on_matrix_product(exc, what)
        raise


def fail_on_matrix_product(exc: BaseException, what: str, refused: bool = False) -> None:
    """When `exc` is NumPy failing to add or multiply terms element-wise and the line
    that raised it holds a matrix product (`a.T @ b`, np.dot), fail naming that product:
    its shape is what cannot broadcast. With `refused`, also a matrix product that NumPy
    refused (its factors do not fit), said as such, with ⊙ as the likely intent only
    as a question. Otherwise return."""
    text = str(exc)
    trace = getattr(exc, "trace", None) or {}
    code = trace.get("code") or ""
    product = _product_in(code)
    where = f" at {trace['location']}" if trace.get("location") else ""
    if "broadcast" in text and product:
        fail(
            f"{what}: NumPy could not combine the terms ({text.strip()}) because "
            f"`{product}` is a matrix product: a product of a row (`.T`) and a column sums "
            "over the cells, and with a batch it is (B, B) or (n, n), neither (n, B). ⊙ is "
            "the element-wise product, `*` in NumPy, and keeps the shape of its factors"
        )
    if refused and product and ("matmul" in text or "not aligned" in text):
        fail(
            f"{what}: NumPy refused the matrix product `{product}`{where} ({text.strip()}): the "
            "first factor's columns must match the second factor's rows. Is an element-wise "
            "product (⊙) meant there? That is `*` in NumPy, not `@` or np.dot"
        )


# A matrix product in a line of learner code: `a.T @ b`, `a @ b`, np.dot, np.matmul.
_MATRIX_PRODUCT = re.compile(
    r"(?:[\w.]+(?:\[[^\]]*\])*(?:\.T)?|\))\s*@\s*[\w.]+(?:\[[^\]]*\])*(?:\.T)?"
    r"|np\.(?:dot|matmul|inner|outer)\([^)]*\)"
)


# A product led by a weight matrix: `W_f @ z`, `params["W_f"] @ z`, `p['W_f'] @ z`,
# `np.dot(W_f, z)`, `np.dot(p["W_f"], z)`; these are the products the lessons want.
_WEIGHT_FIRST = re.compile(r"(?:np\.\w+\(\s*)?(?:\w+\[[\"'])?W")


def _product_in(code: str) -> str | None:
    """The matrix product in a line of code most likely to be wrong: one whose left
    factor is not a weight matrix (W…, also as `params["W_f"]` or `p["W_f"]`), else the
    first."""
    found = [m[0].strip() for m in _MATRIX_PRODUCT.finditer(code)]
    unlikely = [p for p in found if not _WEIGHT_FIRST.match(p)]
    return (unlikely or found or [None])[0]


def expect_choice(answer: Any, name: str, correct: str, wrong: dict[str, str]) -> None:
    """A multiple-choice answer: a letter; each wrong letter has its own explanation.

    `wrong` maps every other option letter to why that option is wrong (never which
    one is right), so a failed attempt still teaches something.
    """
    letters = sorted({correct, *wrong})
    listed = ", ".join(f'"{letter}"' for letter in letters)
    if answer is None:
        fail(f"`{name}` is still a TODO: set it to one of the letters {listed}")
    if not isinstance(answer, str) or answer.strip().upper() not in letters:
        fail(f"`{name}` should be one of the letters {listed} (a string), not {answer!r}")
    picked = answer.strip().upper()
    if picked != correct:
        fail(f"{name} = {picked!r} is not right: {wrong[picked]}")


def expect_number(
    answer: Any,
    name: str,
    expected: float,
    *,
    mistakes: Iterable[tuple[float, str]] = (),
    rtol: float = 1e-6,
    atol: float = 0.0,
) -> None:
    """A numeric answer computed in the learner's file, with known wrong results named.

    Any single number passes: an int or float, a NumPy scalar (np.float64, np.float32,
    np.int64, …) or an array holding one number; a float32 one at float32's precision."""
    if answer is None:
        fail(f"`{name}` is still a TODO: compute it in your file and assign the number")
    dtype = getattr(answer, "dtype", None)
    if dtype is not None and dtype.name in SINGLE_PRECISION:
        rtol = max(rtol, 1e-5 if dtype.name == "float32" else 1e-3)
    if isinstance(answer, bool | np.bool_) or not isinstance(answer, int | float | np.number):
        if isinstance(answer, np.ndarray) and answer.size == 1 and _is_number(answer.item()):
            answer = answer.item()
        elif isinstance(answer, str):
            fail(
                f"`{name}` is a string ({answer!r:.60}, a str), but it should be {ANSWER_KINDS}: "
                "write the number without quotes, or compute it in your file"
            )
        else:
            fail(f"`{name}` should be {ANSWER_KINDS}; not {show(answer)[:60]}")
    value = float(answer)
    if not _isfinite(value):
        fail(f"`{name}` is {value}: it should be a finite number")
    if _all_close(value, expected, rtol, atol):
        return
    found = [message for candidate, message in mistakes if _all_close(value, candidate, rtol, atol)]
    if found:  # two mistakes with the same result here: both, joined with "or"
        fail(f"{name} = {value:.6g}: " + "; or ".join(dict.fromkeys(found[:2])))
    if _all_close(value, expected, 1e-2, atol):
        fail(
            f"{name} = {value:.6g} is close but not exact: compute it in your file rather "
            "than typing in a rounded number"
        )
    fail(f"{name} = {value:.6g} is not right; recompute it step by step in your file")


# -- Signatures of whole classes of mistakes ----------------------------------------------
#
# The checks list the known wrong answers of their lesson; the helpers below produce or
# recognise the ones that recur across lessons: a reduction of the wrong kind or over the
# wrong axis, a mean where a sum belongs, an approximation where σ or tanh belongs, a
# term added outside the nonlinearity, a size written into the code.


def averaged(expected: Any, counts: dict[str, int], why: str = "") -> list[tuple[Any, str]]:
    """The results of dividing by a count where a sum belongs: `counts` names what is
    counted, e.g. {"batch columns": 2, "time steps": 4} (and both together)."""
    expected = np.asarray(expected, dtype=float)
    named = [(name, n) for name, n in counts.items() if n > 1]
    if len(named) == 2:
        (a, n), (b, m) = named
        named.append((f"{a} and {b}", n * m))
    return [
        (
            expected / n,
            f"this is 1/{n} of the right value: a mean over the {name} ({n}) where their sum "
            f"belongs{why}",
        )
        for name, n in named
    ]


_REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "prod": np.prod,
    "cumsum": np.cumsum,
    "cumprod": np.cumprod,
}
_KINDS = {"sum": "mean", "mean": "sum", "prod": "sum", "cumprod": "cumsum", "cumsum": "cumprod"}


def reduction_mistakes(
    array: Any, op: str, axis: int, *, axes: Sequence[str], keepdims: bool = False
) -> list[tuple[Any, str]]:
    """The results of `np.<op>(array, axis=axis)` done wrong, each with its message:
    over another axis, over the flattened array (no `axis`), without keepdims, or of the
    wrong kind (a mean for a sum, a cumulative sum for a cumulative product).

    `axes` names the array's axes ("time", "hidden units", "batch columns"). A
    cumulative result flattened and reshaped back is recognised too."""
    array = np.asarray(array, dtype=float)
    func, cumulative = _REDUCTIONS[op], op.startswith("cum")
    right = f"np.{op}(…, axis={axis}{', keepdims=True' if keepdims else ''})"

    def reduce(f: Callable, **kw: Any) -> Any:
        if cumulative or "axis" not in kw:
            return f(array, **kw)
        return f(array, keepdims=keepdims, **kw)

    out: list[tuple[Any, str]] = []
    for k in range(array.ndim):
        if k != axis and array.shape[k] > 1:
            out.append(
                (
                    reduce(func, axis=k),
                    f"np.{op} runs over axis {k} ({axes[k]}); it belongs over axis {axis} "
                    f"({axes[axis]}): {right}",
                )
            )
    everything = ", ".join(axes)
    flat = func(array)
    no_axis = (
        f"np.{op} without `axis` runs over the flattened array, across all axes "
        f"({everything}); {right} runs along axis {axis} ({axes[axis]}) only"
    )
    out.append((flat, no_axis))
    if cumulative:
        out.append((flat.reshape(array.shape), no_axis))
    elif keepdims:
        out.append(
            (
                func(array, axis=axis),
                f"np.{op} over axis {axis} drops that axis; keepdims=True keeps it, so the "
                "result keeps its column shape: " + right,
            )
        )
    other = _KINDS.get(op)
    if other:
        out.append(
            (reduce(_REDUCTIONS[other], axis=axis), f"this is np.{other} where np.{op} belongs")
        )
    return out


def _sigmoid(a: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=float)))


EXACT = {
    "sigmoid": (_sigmoid, "σ", "σ(a) = 1 / (1 + e^(−a))"),
    "tanh": (np.tanh, "tanh", "np.tanh(a)"),
}
# Stand-ins that learners write for σ and tanh: cheap, close near 0, wrong further out.
APPROXIMATIONS: dict[str, list[tuple[Callable, str]]] = {
    "sigmoid": [
        (lambda a: np.clip(0.5 + a / 4, 0.0, 1.0), "a hard sigmoid, clip(0.5 + a/4, 0, 1)"),
        (lambda a: 0.5 + a / 4, "the tangent line of σ at 0, 0.5 + a/4"),
        (lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0), "a hard sigmoid, clip(0.2·a + 0.5, 0, 1)"),
        (lambda a: np.clip(a / 6 + 0.5, 0.0, 1.0), "a hard sigmoid, clip(a/6 + 0.5, 0, 1)"),
        (lambda a: 0.5 + 0.5 * a / (1 + np.abs(a)), "a softsign, 0.5 + 0.5·a/(1 + |a|)"),
        (lambda a: (a > 0).astype(float), "a step function (1 where a > 0, else 0)"),
        (lambda a: 0.5 + a / 4 - a**3 / 48, "a Taylor series, 0.5 + a/4 − a³/48"),
    ],
    "tanh": [
        (lambda a: np.clip(a, -1.0, 1.0), "a hard tanh, clip(a, −1, 1)"),
        (lambda a: a / (1 + np.abs(a)), "a softsign, a/(1 + |a|)"),
        (lambda a: a - a**3 / 3, "a Taylor series, a − a³/3"),
        (lambda a: np.sign(a), "the sign of a"),
    ],
}


def approximation(
    got: Any,
    pre: Any,
    activation: str,
    inside: str = "a",
    *,
    rtol: float = RTOL,
    min_points: int = 6,
) -> str | None:
    """Why `got` is not `activation(pre)` when it is an approximation of it.

    A known stand-in (a hard sigmoid, a tangent line, a softsign, …) is named. Otherwise,
    when there are at least `min_points` values, `got` rising with `pre` like the
    activation, near it for small |a| and away from it further out, is named as an
    approximation too."""
    got, pre = np.asarray(got, dtype=float), np.asarray(pre, dtype=float)
    if got.shape != pre.shape or not _isfinite(got).all():
        return None
    exact, sym, formula = EXACT[activation]
    right = exact(pre)
    if _all_close(got, right, rtol, ATOL) or _proportion(got, right, rtol, ATOL) is not None:
        return None  # right, or a constant factor off (expect_array names that)
    off = np.abs(got - right).reshape(-1)
    worst = int(np.argmax(off))
    a, want, have = pre.reshape(-1)[worst], right.reshape(-1)[worst], got.reshape(-1)[worst]
    at = f"at a = {a:.3g}, {sym}(a) = {want:.4g} but this gives {have:.4g}"
    for stand_in, name in APPROXIMATIONS[activation]:
        with np.errstate(all="ignore"):
            if _all_close(got, stand_in(pre), rtol, ATOL):
                return (
                    f"these are {name}, of a = {inside}: an approximation of {sym}, which must "
                    f"be exact, {formula} ({at})"
                )
    order = np.argsort(pre, axis=None, kind="stable")
    flat_pre, flat_got = pre.reshape(-1)[order], got.reshape(-1)[order]
    distinct = np.unique(np.round(flat_pre, 9)).size
    rising = bool(np.all(np.diff(flat_got) >= -1e-12))
    small = np.abs(flat_pre) < 0.5
    near = bool(np.all(np.abs(flat_got - exact(flat_pre))[small] < 0.05)) if small.any() else True
    if (
        distinct >= min_points
        and rising
        and near
        and off[np.abs(pre.reshape(-1)) >= 1.0].max(initial=0) > 0.01
    ):
        return (
            f"these values rise with a = {inside} as {sym}(a) does, but they are not {sym}(a) "
            f"({at}): {sym} seems replaced by an approximation or a changed formula; it must "
            f"be exact, {formula}"
        )
    return None


def approximation_mistakes(activation: str, build: Callable[[Callable], Any]) -> list:
    """`build(act)` (a result computed with the activation `act`) with σ or tanh replaced
    by each known approximation, each with its message: for results where the
    activation sits inside a longer formula (o_t ⊙ tanh(C_t), a whole LSTM step)."""
    _, sym, formula = EXACT[activation]
    found = []
    for stand_in, name in APPROXIMATIONS[activation]:
        with np.errstate(all="ignore"):
            found.append(
                (
                    build(stand_in),
                    f"{sym} seems replaced by {name}, an approximation; {sym} must be exact, "
                    f"{formula}",
                )
            )
    return found


def learner_activation(learner: Any, name: str, activation: str) -> Callable | None:
    """The learner's own helper `name` (e.g. the file's `sigmoid`) when it exists and is
    not `activation`; None when it is right or missing. A check then compares the
    learner's result with its reference built on this helper: a match means the helper
    is what is wrong, and `helper_message` says how."""
    found = getattr(learner, name, None)
    if found is None or not callable(found):
        return None
    probe = np.array([[-6.0], [-2.0], [-0.5], [0.0], [0.5], [2.0], [6.0]])
    try:
        values = np.asarray(found(probe.copy()), dtype=float)
    except Exception:  # a broken helper shows in the check's own call
        return None
    if values.shape == probe.shape and _all_close(values, EXACT[activation][0](probe), RTOL, ATOL):
        return None

    def helper(a: Any) -> np.ndarray:
        return np.asarray(found(np.array(a, dtype=float)), dtype=float)

    return helper


def helper_message(learner: Any, name: str, activation: str) -> str:
    """What is wrong with the learner's helper `name` (see `learner_activation`)."""
    exact, sym, formula = EXACT[activation]
    probe = np.array([[-6.0], [-2.0], [-0.5], [0.0], [0.5], [2.0], [6.0]])
    values = np.asarray(getattr(learner, name)(probe.copy()), dtype=float)
    what = "a changed formula"
    if values.shape == probe.shape:
        for stand_in, described in APPROXIMATIONS[activation]:
            with np.errstate(all="ignore"):
                if _all_close(values, stand_in(probe), RTOL, ATOL):
                    what = f"{described}, an approximation"
        worst = int(np.argmax(np.abs(values - exact(probe)).reshape(-1)))
        x, have = probe.reshape(-1)[worst], values.reshape(-1)[worst]
        what += f": `{name}({x:g})` gives {have:.4g} where {sym}({x:g}) = {float(exact(x)):.4g}"
    return (
        f"your file's `{name}` is not {sym}: it computes {what}. It must be exact, {formula}; "
        "everything that calls it inherits this"
    )


def outside_terms(
    activation: Callable,
    pre: Any,
    moved: dict[str, Any],
    added: dict[str, Any],
    sym: str,
    inside: str,
) -> list[tuple[Any, str]]:
    """Results of a term put after the nonlinearity instead of inside it: each term T
    of the pre-activation in `moved` taken out, act(pre − T) + T, and each array A in
    `added` (e.g. h_{t-1} itself) added to the result, act(pre) + A."""
    out: list[tuple[Any, str]] = []
    pre = np.asarray(pre, dtype=float)
    for name, term in moved.items():
        term = np.asarray(term, dtype=float)
        if np.any(term) and term.shape == pre.shape:
            out.append(
                (
                    activation(pre - term) + term,
                    f"{name} is added outside {sym}; it belongs inside: {sym}({inside})",
                )
            )
    for name, term in added.items():
        term = np.asarray(term, dtype=float)
        if np.any(term) and term.shape == pre.shape:
            out.append(
                (
                    activation(pre) + term,
                    f"{name} is added to {sym}(…) as an extra term; it enters only through "
                    f"the weights, inside {sym}({inside})",
                )
            )
    return out


# A size written into learner code as a number: reshape(2, 1), np.zeros((2, 1)),
# np.eye(4), range(4), a slice bound [:2] / [2:].
_RESHAPE = re.compile(r"\breshape\(\s*(?:[\w.]+\s*,\s*)?\(?\s*-?\d+\s*(?:,\s*-?\d+\s*)*\)?\s*\)")
_SIZE_IN_CODE = [
    # np.zeros((2, 1)), np.eye(4), np.ones((h.shape[0], 3)): an element that is a number
    re.compile(
        r"\bnp\.(?:zeros|ones|empty|full|eye|identity)\(\s*"
        r"(?:\((?:[^()]|\([^()]*\))*?(?:\(|,)\s*\d+\s*(?:,|\))(?:[^()]|\([^()]*\))*\)|\d+\b)"
    ),
    re.compile(r"\brange\(\s*\d+\s*\)"),
    re.compile(r"\[[^\]]*:\s*-?\d+\s*[\],]|\[[^\]]*\d+\s*:"),
]
_SHAPE_ERROR = re.compile(r"shape|broadcast|aligned|matmul|out of bounds|size|dimension")


def size_in_code(code: str, error: str = "") -> str | None:
    """The piece of `code` (the line of learner code that raised `error`) that writes a
    size as a number, when the error is one a wrong size causes; None otherwise.

    NumPy's "cannot reshape array of size N into shape (a,b)" names the reshape even
    when the line does not show it."""
    code = code or ""
    reshape = _RESHAPE.search(code)
    if "cannot reshape" in error:
        if reshape:
            return reshape[0].strip()
        into = re.search(r"into shape (\([\d, ]*\))", error)
        return f"reshape to {_shape(into[1])}" if into else "reshape"
    if not _SHAPE_ERROR.search(error):
        return None
    if reshape and any(int(n) > 1 for n in re.findall(r"-?\d+", reshape[0])):
        return reshape[0].strip()
    for pattern in _SIZE_IN_CODE:
        found = pattern.search(code)
        if found:
            piece = found[0].strip()
            return piece + ")" * (piece.count("(") - piece.count(")"))
    return None


def fail_on_size_in_code(exc: BaseException, here: str = "", **sizes: int) -> None:
    """When `exc` (a shape or index error raised in learner code) comes from a line that
    writes a size as a number, fail saying so with this case's `sizes` (or `here`, a
    sentence describing them); else return, and the caller explains the error its own way."""
    trace = getattr(exc, "trace", None) or {}
    code = trace.get("code") or ""
    fixed = size_in_code(code, str(exc))
    where = f" at {trace['location']}" if trace.get("location") else ""
    shown = here or ", ".join(f"{name} = {value}" for name, value in sizes.items())
    past = re.search(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", str(exc))
    if past and not fixed:
        index, size = int(past[1]), int(past[3])
        fail(
            f"an index runs past the end of an array{where} (`{code}`): index {index} on an "
            f"axis of size {size} (valid: 0 … {size - 1}); here {shown}. Is a size written "
            "into the code (e.g. `range(4)`), or is a loop off by one (`t + 1`, "
            "`range(T + 1)`)? Take every size from the arrays, e.g. `range(X.shape[0])`"
        )
    if not fixed:
        return
    fail(
        f"a size seems written into the code: `{fixed}`{where} (`{code}`), but here {shown}; "
        "take every size from the arrays you are given (e.g. `h_prev.shape[0]`, "
        f"`X.shape[0]`) (NumPy said: {exc})"
    )
