"""Task builders. Importing this package registers every task.

One module per task; each calls :func:`rnnzoo.registry.register` on its builder.
"""

from rnnzoo.tasks import classification  # noqa: F401
from rnnzoo.tasks import translation  # noqa: F401
from rnnzoo.tasks import captioning  # noqa: F401
from rnnzoo.tasks import regression  # noqa: F401
from rnnzoo.tasks import video_classification  # noqa: F401
from rnnzoo.tasks import text_prediction  # noqa: F401
