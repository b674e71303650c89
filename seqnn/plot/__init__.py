"""Pictures of training runs and models, drawn with matplotlib (the optional ``plots`` extra).

- :func:`history`: loss and every metric per epoch, training and validation.
- :func:`confusion_matrix`: counts (or rates) per true/predicted class pair.
- :func:`model`: the layers as boxes with their shapes and parameter counts.

Each returns a new ``matplotlib.figure.Figure`` built with the object-oriented
API (never pyplot's global state), so it works headless and in threads; save
it with ``fig.savefig("name.png")`` (or ``.svg``, ``.pdf``), or let a notebook
display it. Importing this package does not import matplotlib: a call does,
and without matplotlib it raises ``ModuleNotFoundError`` saying
``pip install matplotlib`` (or ``pip install "seqnn-ml[plots]"``).

Example::

    history = model.fit(x, y, epochs=10, validation_split=0.1)
    seqnn.plot.history(history).savefig("curves.png")
    seqnn.plot.confusion_matrix(y_test, model.predict(x_test)).savefig("confusion.png")
    seqnn.plot.model(model).savefig("model.svg")
"""
from .confusion import confusion_matrix
from .model_diagram import model
from .training_curves import history

__all__ = ["confusion_matrix", "history", "model"]
