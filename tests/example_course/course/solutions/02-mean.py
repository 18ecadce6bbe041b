def mean(values):
    # BEGIN SOLUTION
    return sum(values) / len(values)
    # END SOLUTION
