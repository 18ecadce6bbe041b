"""The judge: the process that decides a verdict, and everything only it may hold.

It runs the hidden checks (`main` starts it, `plugin` is its pytest plugin), talks to
the subject through `proxy` (learner code is never called here, only asked for plain
data), and holds what learner code must never see: the checks' comparison helpers
(`expect`, `kerascheck`), the NumPy references (`references`) and the NumPy
interpreter of saved Keras models (`keras_model`). Nothing under `grading.subject`
imports from here; the checks in checks/ import only from here.
"""
