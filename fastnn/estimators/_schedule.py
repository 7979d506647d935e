"""Ch. 3's rules for when to stop and how to change η, decided between epochs.

"No-improvement-in-n": stop once the monitored accuracy has not improved for
n epochs.  The learning-rate schedule of the chapter's exercise instead halves
η each time that happens, and stops once η < η₀/128.
"""
import numpy as np


class Schedule:
    """Tracks the monitored score epoch by epoch and says when to stop.

    Parameters
    ----------
    eta : float
        η₀, the starting learning rate.
    kind : {"constant", "halve"}
    n_iter_no_change : int or None
        Epochs without improvement that trigger a stop ("constant") or a halving
        ("halve", 10 when None, the book's "no-improvement-in-ten").  None with
        "constant" never stops early.
    restore_best : bool
        Keep a copy of the best epoch's parameters (only when stopping early
        is possible), for the caller to restore at the end.
    """

    def __init__(self, eta, kind="constant", n_iter_no_change=None, restore_best=True):
        self.eta0 = self.eta = float(eta)
        self.kind = kind
        if kind == "halve" and n_iter_no_change is None:
            n_iter_no_change = 10
        self.patience = n_iter_no_change
        self.keep_best = restore_best and n_iter_no_change is not None
        self.best_score = -np.inf
        self.best_epoch = None
        self.best_params = None
        self.stalled = 0

    def update(self, score, epoch, params):
        """Record ``score`` for ``epoch``; return True to stop training."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.stalled = score, epoch, 0
            if self.keep_best:
                self.best_params = params.copy()
            return False
        self.stalled += 1
        if self.patience is None or self.stalled < self.patience:
            return False
        if self.kind == "constant":
            return True
        self.eta /= 2
        self.stalled = 0
        return self.eta < self.eta0 / 128

    def state(self):
        """What a checkpoint needs to go on with this schedule (JSON)."""
        best = None if self.best_epoch is None else float(self.best_score)
        return {"eta": self.eta, "best_score": best, "best_epoch": self.best_epoch,
                "stalled": self.stalled}

    def rewind(self, earlier):
        """Go back to ``earlier``, a ``copy.copy`` of this schedule (``_rollback.Snapshot``)."""
        vars(self).clear()
        vars(self).update(vars(earlier))

    def restore(self, state, best_params):
        """Continue from ``state()`` and the best weights saved with it."""
        self.eta = float(state["eta"])
        self.best_epoch = state["best_epoch"]
        self.best_score = -np.inf if self.best_epoch is None else float(state["best_score"])
        self.stalled = int(state["stalled"])
        if self.keep_best and self.best_epoch is not None:
            if best_params is None:
                raise ValueError("the checkpoint has no best weights to restore at the end.")
            self.best_params = best_params
