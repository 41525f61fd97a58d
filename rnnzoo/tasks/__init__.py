"""Task builders. Importing this package registers every task.

One module per task; each calls :func:`rnnzoo.registry.register` on its builder
and imports no other task module. What tasks share lives beside them:

- ``common.py``: the recurrent options, their search space, ``compile_model``;
- ``generation.py``: the generative base (``generate``, cached inference
  models, ``make_dataset`` plumbing, BLEU) of translation, captioning and
  text_prediction;
- ``decoder.py``: the shared token decoder (``DecoderStack``, ``step_model``,
  masked loss and accuracy, vocabulary options);
- ``decoding.py``: decoding strategies (greedy, beam search, sampling) and
  ``decode``;
- ``decode_loop.py``: the compiled loop they run in (one ``keras.ops.while_loop``
  per generation) and the counter-based sampling draws.
"""

from rnnzoo.tasks import classification  # noqa: F401
from rnnzoo.tasks import translation  # noqa: F401
from rnnzoo.tasks import captioning  # noqa: F401
from rnnzoo.tasks import regression  # noqa: F401
from rnnzoo.tasks import video_classification  # noqa: F401
from rnnzoo.tasks import text_prediction  # noqa: F401
