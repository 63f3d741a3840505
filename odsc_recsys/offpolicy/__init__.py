"""Off-policy evaluation: what would another policy earn, judged from a log of this one?

A service logs what its current (*behaviour*) policy showed, how likely it was to show it, and
what the user did. Before deploying a new (*target*) policy we would like its value from that
log alone. Importance sampling reweights each logged reward by how much more (or less) likely
the target was to produce the same path; in the simulator we can also run the target and see
how close the estimates come.

Slates are of ONE movie (a "next up" card): the probability of a whole ranked list is a
product of ``k`` small factors, which makes per-slate weights useless; slate OPE needs more
structure (the pseudo-inverse estimator of Swaminathan et al. 2017).

Modules
-------
policies
    Stochastic policies: :class:`SoftmaxPolicy` (a recommender's scores through a tempered
    softmax), :class:`UniformPolicy`, and :func:`mix` of two policies.
logs
    :func:`log_sessions` (a behaviour log with propensities) and :func:`true_value` (a policy
    run online).
estimators
    The padded session matrices and the estimators: :func:`ips`, :func:`snips`,
    :func:`doubly_robust`, :func:`effective_sample_size`, and :func:`fit_reward_model`.
experiment
    :func:`ope_experiment`: every estimator on chunks of a large log, and
    :func:`summarise_ope`: bias, spread, RMSE and interval coverage against the truth.
plots
    :func:`plot_ope`: each estimator against the truth as the log grows.

References
----------
- D. Precup, R. S. Sutton, S. Singh, "Eligibility traces for off-policy policy evaluation",
  ICML 2000 (per-decision importance sampling).
- N. Jiang, L. Li, "Doubly robust off-policy value evaluation for reinforcement learning",
  ICML 2016.
- A. Kong, "A note on importance sampling using standardized weights", 1992 (effective sample
  size).
- A. Swaminathan et al., "Off-policy evaluation for slate recommendation", NeurIPS 2017.
"""

from .estimators import (
    Estimate,
    SessionMatrices,
    cumulative_weights,
    doubly_robust,
    effective_sample_size,
    fit_reward_model,
    ips,
    session_matrices,
    snips,
    target_terms,
)
from .experiment import ESTIMATORS, OPE_COLUMNS, ope_experiment, summarise_ope
from .logs import SessionLog, log_sessions, true_value
from .plots import plot_ope
from .policies import (
    MixturePolicy,
    SoftmaxPolicy,
    StochasticPolicy,
    UniformPolicy,
    checked_policy,
    draw,
    mix,
)

__all__ = [
    "ESTIMATORS",
    "OPE_COLUMNS",
    "Estimate",
    "MixturePolicy",
    "SessionLog",
    "SessionMatrices",
    "SoftmaxPolicy",
    "StochasticPolicy",
    "UniformPolicy",
    "checked_policy",
    "cumulative_weights",
    "doubly_robust",
    "draw",
    "effective_sample_size",
    "fit_reward_model",
    "ips",
    "log_sessions",
    "mix",
    "plot_ope",
    "ope_experiment",
    "session_matrices",
    "snips",
    "summarise_ope",
    "target_terms",
    "true_value",
]
