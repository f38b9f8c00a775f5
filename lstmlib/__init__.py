"""lstmlib: the LSTM unit, explained valve by valve, in numpy. The public names, nothing else.

``import lstmlib`` stays light (numpy only): the figures and widgets are imported on their own,
``from lstmlib import draw`` and ``from lstmlib import interact``.

Adding a module: append its import and ``__all__ += [...]`` with its public names.
"""

from .activations import sigmoid, sigmoid_derivative, tanh, tanh_derivative
from .layers import LSTM, RNN, Linear
from .unit import (
    combine,
    forget_valve,
    lstm_unit,
    memory_pipe,
    new_memory_valve,
    output_state,
    output_valve,
)

__all__ = [
    "LSTM",
    "RNN",
    "Linear",
    "combine",
    "forget_valve",
    "lstm_unit",
    "memory_pipe",
    "new_memory_valve",
    "output_state",
    "output_valve",
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
]

from .convert import params_from_keras, params_from_torch, params_to_keras, params_to_torch

__all__ += ["params_from_keras", "params_from_torch", "params_to_keras", "params_to_torch"]

from .tasks import (  # noqa: E402
    SOLVED_TOLERANCE,
    AddingProblem,
    FluentLanguage,
    adding_problem,
    fluent_language,
    solved,
)
from .train import (  # noqa: E402
    SGD,
    Adam,
    History,
    SequenceModel,
    clip_grad_norm,
    evaluate,
    fit,
    mean_squared_error,
    softmax_cross_entropy,
)

__all__ += ["SOLVED_TOLERANCE", "AddingProblem", "FluentLanguage", "adding_problem"]
__all__ += ["fluent_language", "solved"]
__all__ += ["SGD", "Adam", "History", "SequenceModel", "clip_grad_norm", "evaluate", "fit"]
__all__ += ["mean_squared_error", "softmax_cross_entropy"]
