"""What a fit shows while it runs: nothing, a progress bar, or a line per epoch.

``verbose=0`` shows nothing. ``verbose=1`` shows a bar per fit (epochs
done, the loss, the validation score under early stopping, elapsed and
estimated time) through ``tqdm.auto``, which draws it in a notebook too,
when tqdm is installed; otherwise, and at ``verbose >= 2``, it prints
MLPRegressor's line per epoch (``Iteration N, loss = ...``). What is shown
never changes what is computed.
"""

import importlib


def _tqdm():
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        return None


class Progress:
    """The display of one call's training; ``epoch`` after each epoch, ``close`` at the end."""

    def __init__(self, verbose, n_epochs, description, incremental=False):
        self.lines = verbose >= 2 or (verbose == 1 and _tqdm() is None)
        self.description = description
        self.score_explained = False
        self.bar = None
        if verbose == 1 and not self.lines:
            # A partial_fit's bar (one epoch, a block of a stream) goes when it ends: a stream of a
            # thousand blocks left a thousand bars. A fit's stays, of one epoch too (MLPRegressor's
            # line would).
            self.bar = _tqdm()(total=n_epochs, desc=description, unit="epoch", leave=not incremental,
                               dynamic_ncols=True)

    def epoch(self, epoch, loss, score=None):
        if self.lines:
            # Flushed: a log read while the fit runs (a pipe buffers 8 KB) shows each epoch as it ends.
            print(f"Iteration {epoch + 1}, loss = {loss:.8f}", flush=True)
            if score is not None:
                if not self.score_explained:
                    # An autoencoder's loss (half the squared error summed over columns) and its score
                    # (minus the mean squared error per entry) are not one scale: said once.
                    print(f"{self.description}: the validation score is score() of the held-out rows, in its "
                          "units (higher is better); the loss is loss_curve_'s.", flush=True)
                    self.score_explained = True
                print(f"Validation score: {score:.8f}", flush=True)
        elif self.bar is not None:
            postfix = {"loss": f"{loss:.4g}"}
            if score is not None:
                postfix["validation"] = f"{score:.4g}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)

    def stopped(self, message):
        if self.lines:
            print(message, flush=True)
        elif self.bar is not None:
            self.bar.set_description_str(f"{self.bar.desc}: stopped (converged)")

    def close(self):
        if self.bar is not None:
            self.bar.close()
