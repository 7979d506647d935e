"""The parameters and attributes both estimators document alike (numpydoc
sections, formatted into ``FastNN.__doc__`` and ``FastNNRegressor.__doc__``)."""

SHARED_PARAMETERS = """
    hidden_layer_sizes : tuple of int, default=(30,)
        Neurons in each hidden layer; the input and output layers come from
        the data.  ``(30,)`` on MNIST gives the book's 784-30-10 network.
    eta : float, default={eta}
        Learning rate η.
    lmbda : float, default=0.0
        Regularisation parameter λ, as in the book: the cost gains (λ/2n) Σ w²
        (L2) or (λ/n) Σ |w| (L1), never the biases.  scikit-learn's MLP scales
        its ``alpha`` by the mini-batch instead: the same L2 decay is
        ``alpha = lmbda · m / n`` (m = ``mini_batch_size``, n = training samples).
    penalty : {{"l2", "l1"}}, default="l2"
        L2: w ← (1 − ηλ/n) w − …;  L1: w ← w − (ηλ/n) sgn(w) − … (ch. 3).
    mini_batch_size : int, default=10
        m.  1 is online learning.  The last mini-batch of an epoch may be
        smaller, as in the book.
    epochs : int, default=30
        Passes over the training data (per call to ``fit``).
    momentum : float in [0, 1), default=0.0
        μ of momentum-based SGD: v ← μv − η∇C, w ← w + v (biases too).
    dropout : float in [0, 1), default=0.0
        Probability of dropping each hidden neuron per sample and epoch during
        training (inverted dropout: kept ones are scaled by 1/(1 − p), so
        prediction uses the whole network unchanged).
    activation : {{"sigmoid", "tanh", "relu"}}, default="sigmoid"
        Activation of the hidden neurons.
    init : {{"default", "large"}}, default="default"
        Initial weights N(0, 1/n_in) (ch. 3), or N(0, 1) as in ch. 1.
        Biases are N(0, 1) in both.
    eta_schedule : {{"constant", "halve"}}, default="constant"
        "halve": halve η each time the monitored score has not improved for
        ``n_iter_no_change`` epochs (10 if None) and stop once η < η₀/128.
    n_iter_no_change : int or None, default=None
        Early stopping (ch. 3's "no-improvement-in-n"): stop once the
        monitored score has not improved for this many epochs.  The score is
        the evaluation data's if there is any, else the training data's.
    restore_best : bool, default=True
        When training can stop early, end with the best epoch's weights.
    validation_fraction : float in (0, 1) or None, default=None
        Hold out this fraction of the training data as evaluation data
        (stratified for the classifier), unless ``fit`` gets an ``eval_set``.
    warm_start : bool, default=False
        ``fit`` continues from the fitted weights instead of starting anew.
    on_divergence : {{"raise", "warn"}}, default="raise"
        When an epoch makes the weights or the cost non-finite, the model goes
        back to the epoch before it, then fit raises ``FloatingPointError``
        ("raise") or warns and returns ("warn").
    on_interrupt : {{"raise", "stop"}}, default="raise"
        On Ctrl-C (KeyboardInterrupt), wherever it lands, the model goes back
        to its last completed epoch: weights, velocity, ``n_iter_`` and
        ``history_`` of that one epoch (and the random state, so warm_start
        continues as if never stopped); "raise" re-raises the interrupt,
        "stop" warns and returns.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the per-epoch shuffles and dropout masks.
        The same int gives a bitwise-identical model whatever ``n_threads`` is.
    n_threads : int or None, default=None
        Threads that share a large layer's products in training (fixed
        blocks: the model is bitwise the same for any count), and the rows
        of ``predict``, ``predict_proba`` and ``score`` (the outputs too are
        bitwise the same for any count).  None
        follows fastnn's threads rule (``fastnn.estimators._threads``): the smallest of
        numba's setting, the OpenMP limit (``threadpoolctl.threadpool_limits``,
        ``OMP_NUM_THREADS``) and the share of an outer level — cores ÷ n_jobs
        in joblib's threading backend, cores ÷ worker threads in a Dask task,
        1 where that size is unknown.  Changes nothing outside the call.
    verbose : int, default=0
        1 prints one line per epoch in the book's style (evaluation data if
        there is any, otherwise training data); 2 adds a tqdm progress bar over
        the epochs on stderr when it is a terminal (tqdm's convention: in a
        log or a pipe the bar's redraws would garble the lines, so none).
    checkpoint_dir : str, path-like or None, default=None
        ``fit`` saves a checkpoint here (``checkpoint.npz``, written
        atomically) every ``checkpoint_every`` epochs and at the end;
        ``resume(checkpoint_dir, X, y)`` continues an interrupted fit to
        bitwise the model it would have given.  ``partial_fit`` writes none.
        Give each concurrent fit its own folder (not one shared by a search).
        A new fit refuses a folder holding an unfinished fit (resume it, or
        delete the file); a fit that diverged ends its checkpoint as finished,
        with its last finite epoch, so the rerun with a smaller eta may use
        the same folder, and ``resume`` of it raises (or warns) as that fit did.
    checkpoint_every : int, default=1
        Epochs between checkpoints.
"""

SHARED_ATTRIBUTES = """
    coefs_ : list of ndarray
        ``coefs_[l]`` has shape (fan_in, fan_out), as in scikit-learn.
    intercepts_ : list of ndarray
        ``intercepts_[l]`` has shape (fan_out,).
    n_features_in_ : int
    n_layers_ : int
        Layers including input and output.
    n_outputs_ : int
    out_activation_ : str
    n_iter_ : int
        Epochs run, summed over warm-started fits and ``partial_fit`` calls.
    history_ : dict of lists
        Per epoch, as ``network2.SGD``'s monitors: ``train_cost``,
        ``train_{score}``, ``eval_cost``, ``eval_{score}`` (the last two empty
        without evaluation data).  The training pair is measured during the
        epoch, each sample by the forward pass that trains on it, as
        scikit-learn's ``loss_curve_`` (no second pass over the training
        data); the evaluation pair after the epoch.  Costs include the
        regularisation term of the epoch's final weights, with each data
        set's own n, as ``network2.total_cost``.
    loss_curve_ : list of float
        ``history_["train_cost"]``, scikit-learn's name for it.
    best_epoch_ : int
        Index into ``history_`` of the epoch whose weights were kept (only
        when training could stop early and ``restore_best``).
    eta_ : float
        η at the end of training (changes with ``eta_schedule="halve"``).
"""
