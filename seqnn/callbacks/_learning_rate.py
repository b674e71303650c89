"""Reading and setting the optimizer's learning rate from a callback."""
from __future__ import annotations


def require_settable_learning_rate(owner: str, model) -> None:
    """Refuse at train start, not epochs later, an optimizer whose rate a schedule sets at every step."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner}: the model has no optimizer with a learning_rate; compile it first")
    if getattr(optimizer, "uses_schedule", False):
        raise TypeError(f"{owner}: the optimizer's learning_rate is a LearningRateSchedule, which sets the rate "
                        "at every step, so this callback cannot change it; create the optimizer with a float "
                        "learning_rate to use this callback")


def log_learning_rate(model, logs: dict | None) -> None:
    """Put the rate used during the epoch into the epoch logs (History and CSVLogger run later and record it)."""
    if logs is not None:
        logs["learning_rate"] = float(model.optimizer.learning_rate)
