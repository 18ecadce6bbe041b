"""Instructor tools: grading a class (`classroom`), the Gradescope and PrairieLearn
bundles (`autograder`, with `platform_limits` for their machines), and exporting
grades (`export`). Built on the core and the grading package; nothing imports them
but the CLI's instructor commands."""
