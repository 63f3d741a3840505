"""Online evaluation in the simulator: agents, run loops, metrics with confidence bands.

Offline replay asks "would the model have predicted what the user did?". Online evaluation asks
"what does the user do when *this* model recommends?": click, stay or leave. This package runs
recommenders against :class:`odsc_recsys.simulator.MovieLensUserEnv` and aggregates what
happens.

The agent interface is small (:class:`Agent`)::

    slate = agent.act(observation, history, rng)
    agent.learn(observation, slate, clicked, reward, next_observation, done)

``observation`` is the environment's (the last 3 movies, padded), ``history`` every movie
watched this session (what a service knows about the visit), ``clicked`` the catalogue index
of the watched movie or ``-1``, ``done`` whether the user left. Static recommenders ignore
``learn``; a learning agent receives each step as a :class:`SessionStep` in
:meth:`Agent.learn_step` (the Q-learning agent updates its per-genre Q-tables from it).

Experiments use **common random numbers**: with the same seed, every agent and every
environment setting meets the same users in the same order with the same random draws at each
step, so differences between agents are not noise from different users. Results are then
summarised per seed and shown as a mean over seeds with a 95% t-interval.

Modules
-------
agents
    :class:`Agent` and the agents: random, popularity, any recommender, the oracle, Q-learning.
exits
    When sessions end, against satiation and rating, in MovieLens and the simulator.
genre_agent
    :class:`GenreChoiceAgent`: tabular Q-learning over which genre to show next.
runner
    One session, sessions in a row, every agent in every setting (:func:`run_experiment`).
statistics
    Per-seed values and t-intervals over seeds: summaries, paired differences, learning curves.
validation
    The user split and the simulator set beside MovieLens (:func:`compare_with_movielens`).
planning
    The sweep of the discount gamma and paired differences against one baseline.
plots
    Learning curves and the simulator check (the bar charts of :func:`summarise` tables are
    :func:`odsc_recsys.plotting.plot_metric_bars`).
"""

from __future__ import annotations

from .agents import (
    Agent,
    OracleAgent,
    PopularityAgent,
    QLearningAgent,
    RandomAgent,
    RecommenderAgent,
    SessionStep,
    observation_state,
)
from .exits import exit_rates, exit_slope, watch_events_movielens, watch_events_simulated
from .genre_agent import GenreChoiceAgent
from .planning import gamma_label, gamma_sweep, versus
from .plots import agent_colors, plot_learning_curves, plot_simulator_check
from .runner import (
    SESSION_METRICS,
    SessionResult,
    run_experiment,
    run_oracle,
    run_session,
    run_sessions,
    session_seeds,
    simulate_log,
)
from .statistics import (
    evidence_table,
    lead_change,
    learning_curves,
    mean_interval,
    paired_difference,
    per_seed,
    summarise,
)
from .validation import SimulatorCheck, compare_with_movielens, genre_repeat_rate, split_users

__all__ = [
    "SESSION_METRICS",
    "Agent",
    "GenreChoiceAgent",
    "OracleAgent",
    "PopularityAgent",
    "QLearningAgent",
    "RandomAgent",
    "RecommenderAgent",
    "SessionResult",
    "SessionStep",
    "SimulatorCheck",
    "agent_colors",
    "compare_with_movielens",
    "evidence_table",
    "exit_rates",
    "exit_slope",
    "gamma_label",
    "gamma_sweep",
    "genre_repeat_rate",
    "lead_change",
    "learning_curves",
    "mean_interval",
    "observation_state",
    "paired_difference",
    "per_seed",
    "plot_learning_curves",
    "plot_simulator_check",
    "run_experiment",
    "run_oracle",
    "run_session",
    "run_sessions",
    "session_seeds",
    "simulate_log",
    "split_users",
    "summarise",
    "versus",
    "watch_events_movielens",
    "watch_events_simulated",
]
