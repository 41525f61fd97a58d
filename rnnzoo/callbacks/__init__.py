"""Keras callbacks for recurrent models.

``GradientMonitor`` logs per-layer gradient norms and the backpropagation-
through-time curve ``||dL/dh_t||`` of every recurrent layer, and warns about
vanishing and exploding gradients.
"""

from rnnzoo.callbacks.gradient_monitor import GradientMonitor

__all__ = ["GradientMonitor"]
