"""Callbacks: hooks into fit, evaluate and predict (Keras's hook set and order)."""
from .callback import Callback
from .callback_list import CallbackList
from .history import History
from .lambda_callback import LambdaCallback
from .progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "ProgbarLogger"]
