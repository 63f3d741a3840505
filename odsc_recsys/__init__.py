"""odsc_recsys: recommender systems with reinforcement learning and per-genre Q-tables.

The package behind the odsc-recsys tutorial notebooks. Data flows one way::

    raw files -> Catalog + ratings -> histories -> transitions -> models
              -> recommendations -> metrics and plots
"""

__version__ = "0.1.0"
