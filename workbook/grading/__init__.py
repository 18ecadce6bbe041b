"""Grading: run a lesson's hidden checks against the learner's file, in isolation.

`runner` (parent side) starts `child` (a fresh interpreter with time, memory and
output limits), which imports the learner's file and runs pytest with `plugin`;
results travel back as JSON lines in a report file, never by scraping text.
"""
