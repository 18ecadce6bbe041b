"""LSTM Workbook: a terminal, auto-graded exercise workbook about LSTM networks.

Kept empty of imports on purpose: the grading child process and the CLI import
this package first, and start-up time is a feature.
"""

__version__ = "0.1.0"
