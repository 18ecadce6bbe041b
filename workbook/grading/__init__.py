"""Grading: run a lesson's hidden checks against the learner's file, in two processes.

`runner` (parent side) starts the judge (`child`: pytest with `plugin`, the checks and
their references), which forks the subject (`subject`: confined by `sandbox`, the only
process that runs learner code). Checks call the learner's functions through `proxy`;
values cross as plain data (`wire`, `keras_model`). The judge's results travel to the
parent as JSON lines in a report file in its private folder, never by scraping text.
"""
