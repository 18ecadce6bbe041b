"""The subject: the process that runs learner code, and all the code it may hold.

Born clean from a fresh interpreter (`zygote`), confined (`sandbox`: no
capabilities, Landlock, seccomp, limits), it serves the judge's requests (`server`)
with plain data through `workbook.grading.wire`, describing the learner's exceptions
in their own terms (`learner_trace`). It imports nothing of the judge: an import
contract (pyproject.toml, tests/test_architecture.py) and the subject's own memory
scan (tests/test_clean_room.py) hold it to that.
"""
