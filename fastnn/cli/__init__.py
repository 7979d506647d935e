"""The ``fastnn`` command line (also ``python -m fastnn``).

``_main`` parses the arguments and runs ``train``, ``evaluate`` and
``predict``; ``_book_command``, ``_approx_command`` and ``_compile`` are
``fastnn book``, ``fastnn approx`` and ``fastnn compile``.

Owns what a user types and sees: arguments, the outputs' files, and turning
a user's mistake into one ``fastnn: error: ...`` line.  It sits on top:
nothing in fastnn imports it but ``fastnn.__main__``.

May not import ``fastnn.reference`` (the NumPy twin is for tests and
benchmarks).
"""
from ._main import main

__all__ = ["main"]
