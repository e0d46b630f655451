"""Layer 4, present: the PeriodSummary made readable; words, tables, charts and pages.

``format`` (how every number reads), ``narrative`` and ``highlights`` (the words), ``charts``,
``tables`` and ``report`` (the notebook API), ``newsletter``, ``render`` (nbconvert) and
``portal`` (the index). Computes no metric: every number it shows is read from the summary.
See ``docs/architecture.md``.
"""
