"""Solution to the "Try it" of notebook 10: the double-DQN future term."""

import numpy as np


def double_dqn_future(q_online_next, q_target_next, gamma, done):
    best = int(np.argmax(q_online_next))  # the online network chooses the next movie ...
    return gamma * (1.0 - float(done)) * float(q_target_next[best])  # ... the target values it


if __name__ == "__main__":
    from odsc_recsys.deep.exercises import check_double_dqn_future

    print(check_double_dqn_future(double_dqn_future))
