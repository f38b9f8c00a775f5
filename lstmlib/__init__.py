"""lstmlib: the LSTM unit, explained valve by valve, in numpy. The public names, nothing else.

``import lstmlib`` stays light (numpy only): the figures and widgets are imported on their own,
``from lstmlib import draw`` and ``from lstmlib import interact``.

Adding a module: append its import and ``__all__ += [...]`` with its public names.
"""

from ._version import __version__  # noqa: F401  (not in __all__: a module attribute, not an API)
from .activations import sigmoid, sigmoid_derivative, tanh, tanh_derivative
from .layers import LSTM, RNN, Linear
from .unit import (
    combine,
    forget_valve,
    lstm_unit,
    lstm_unit_backward,
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
    "lstm_unit_backward",
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

from .compose import Bidirectional, Stack, from_torch  # noqa: E402
from .gru import GRU, candidate_memory, gru_unit, reset_valve, update_valve  # noqa: E402

__all__ += ["GRU", "Bidirectional", "Stack", "from_torch"]
__all__ += ["candidate_memory", "gru_unit", "reset_valve", "update_valve"]
