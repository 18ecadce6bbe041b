from workbook.grading.judge.expect import fail, function


def test_double(learner):
    """double(21) is 42"""
    got = function(learner, "double")(21)
    if got == 21 * 21:
        fail("that is the square; double means times two", expected=42, got=got)
    if got != 42:
        fail("double(21) should be 42", expected=42, got=got)
