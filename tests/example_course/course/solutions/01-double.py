def double(x):
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION
