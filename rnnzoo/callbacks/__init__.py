"""Keras callbacks for recurrent models.

``GradientMonitor`` logs per-layer gradient norms and the backpropagation-
through-time curve ``||dL/dh_t||`` of every recurrent layer, and warns about
vanishing and exploding gradients. One job per module, each importing only
those before it:

- :mod:`~rnnzoo.callbacks.autodiff`: one small adapter per Keras backend
  (``tf.GradientTape``, ``jax.value_and_grad``, ``torch.autograd``: the
  gradients, the compiled pass, the step loop); nothing else differentiates;
- :mod:`~rnnzoo.callbacks.tracing`: which recurrent layers a model has, and the
  per-step probe of ``h_t`` inside them;
- :mod:`~rnnzoo.callbacks.measure`: one gradient pass on a batch, reduced to
  per-layer/per-weight norms and per-step curves (and their retention ratio);
- :mod:`~rnnzoo.callbacks.probe`: the fixed batch the monitor measures on;
- :mod:`~rnnzoo.callbacks.report`: alert messages with remedies, TensorBoard
  summaries, the plot;
- :mod:`~rnnzoo.callbacks.gradient_monitor`: the ``keras.callbacks.Callback``
  that runs them during ``fit``.

```python
monitor = rnnzoo.callbacks.GradientMonitor(on_explode="stop")
model.fit(train_ds, epochs=5, callbacks=[monitor])
monitor.summary()["rnn_1"]["retention"]
```
"""

from rnnzoo.callbacks.gradient_monitor import GradientMonitor

__all__ = ["GradientMonitor"]
