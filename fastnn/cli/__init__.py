"""The ``fastnn`` command line (also ``python -m fastnn``).

``_main`` parses the arguments and runs ``train``, ``evaluate`` and
``predict``; ``_book_command``, ``_approx_command`` and ``_compile`` are
``fastnn book``, ``fastnn approx`` and ``fastnn compile``.
"""
from ._main import main

__all__ = ["main"]
