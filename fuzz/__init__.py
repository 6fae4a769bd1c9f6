"""Fuzzing for tfformats: harness functions, seed corpora and a runner.

``fuzz/harnesses.py`` holds one function per parser entry point; each feeds
arbitrary bytes to a public reader and lets anything that is not a
``tfformats.TFFormatsError`` escape.  ``fuzz/run.py`` drives them with atheris
(coverage-guided) or with the pure-Python mutation driver in
``fuzz/mutate.py``.  The property tests in ``tests/test_robustness*.py`` reuse
the same harness functions.  See ``docs/robustness.md``.
"""
