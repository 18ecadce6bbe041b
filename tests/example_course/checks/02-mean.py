from workbook.grading.judge.expect import fail, function


def test_mean(learner):
    """mean([1, 2, 3, 6]) is 3"""
    got = function(learner, "mean")([1, 2, 3, 6])
    if got == 12:
        fail("that is the sum: divide by the number of values", expected=3, got=got)
    if got != 3:
        fail("mean([1, 2, 3, 6]) should be 3", expected=3, got=got)
