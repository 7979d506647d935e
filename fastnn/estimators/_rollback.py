"""Going back to the last completed epoch when a fit is cut short.

A Ctrl-C (KeyboardInterrupt) can land at any instant: inside the compiled
epoch, between the history of an epoch and its weights, while a checkpoint is
written, after the loop.  Rather than order every statement so that each
instant leaves a consistent model, the loop takes a ``Snapshot`` once an
epoch is wholly recorded, in one assignment, and whatever goes wrong puts the
estimator back to the last one: weights, velocity, ``n_iter_``, ``history_``
(hence ``loss_curve_``), the Generator and the η schedule, all of one epoch.

This module only takes snapshots; putting one back is the estimator's own
(``EpochLoop._roll_back`` and ``_put_back``), so that nothing outside the
class sets its attributes.
"""
import copy

# Everything an epoch replaces.  Committing an epoch assigns fresh arrays
# (``_commit`` copies), so holding references is enough.
ATTRIBUTES = ("coefs_", "intercepts_", "_velocity", "n_iter_", "n_layers_", "n_outputs_",
              "out_activation_")


class Snapshot:
    """The state one completed epoch left in ``estimator`` and ``plan``.

    Parameters
    ----------
    estimator : BaseFastNN
        Fitted up to and including the epoch (``_commit`` and ``_record`` done).
    plan : Schedule
        The η schedule, updated with that epoch's score.

    Attributes
    ----------
    attributes : dict
        ``ATTRIBUTES`` as they were.
    lengths : dict
        The length of each list in ``history_``.
    rng : dict
        The state of the estimator's Generator.
    plan : Schedule
        A copy of the schedule.
    """

    def __init__(self, estimator, plan):
        self.attributes = {name: getattr(estimator, name) for name in ATTRIBUTES}
        self.lengths = {key: len(values) for key, values in estimator.history_.items()}
        self.rng = estimator._rng.bit_generator.state  # a fresh dict each time
        self.plan = copy.copy(plan)  # best_params is replaced, never written in place


def keep(estimator):
    """What ``EpochLoop._put_back`` needs to undo a fit that never reached its
    first epoch: (attributes, Generator, its state)."""
    rng = vars(estimator).get("_rng")
    return dict(vars(estimator)), rng, rng.bit_generator.state if rng is not None else None


def interrupt_of(exc):
    """The KeyboardInterrupt ``exc`` is or stands for, else None.

    A Ctrl-C that lands while a compiled kernel returns its result reaches
    Python as a SystemError caused by the KeyboardInterrupt.
    """
    if isinstance(exc, KeyboardInterrupt):
        return exc
    if isinstance(exc, SystemError) and isinstance(exc.__cause__, KeyboardInterrupt):
        return exc.__cause__
    return None
