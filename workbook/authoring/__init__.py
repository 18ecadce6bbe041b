"""Course authoring: scaffolding a lesson, checking that stubs fail and references
pass, running the typical mistakes (`devtools`). Only the CLI's `dev` commands import
it; what learners' commands need to author nothing (stubs, the manifest) is core."""
