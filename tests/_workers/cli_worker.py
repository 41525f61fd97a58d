"""Runs ``rnnzoo`` (``rnnzoo.cli.main``) in a test's worker process.

Used by tests/test_distribute.py to start multi-worker training and
distributed tuning exactly as a user would from the command line. One test
hook: with ``RNNZOO_TEST_CRASH_AFTER_EPOCH=E`` this process dies abruptly
(``os._exit``, no cleanup, like a killed machine) right after the
end-of-epoch checkpoint of epoch ``E`` was taken.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _install_crash_hook(epoch: int) -> None:
    from rnnzoo import distribute

    original = distribute.BackupAndRestore.on_epoch_end

    def on_epoch_end(self, e, logs=None):
        original(self, e, logs)
        if e == epoch:
            print(f"test hook: crashing after epoch {e}", file=sys.stderr, flush=True)
            os._exit(17)

    distribute.BackupAndRestore.on_epoch_end = on_epoch_end


if __name__ == "__main__":
    crash = os.environ.get("RNNZOO_TEST_CRASH_AFTER_EPOCH")
    if crash is not None:
        _install_crash_hook(int(crash))
    from rnnzoo.cli import main

    sys.exit(main(sys.argv[1:]))
