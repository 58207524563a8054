"""Keep native libraries' log lines (TensorFlow Lite, MediaPipe's absl/glog) off the user's terminal.

They write to file descriptor 2 from C++, past Python's sys.stderr, and some ignore the log-level
environment variables (TFLite's "INFO: Created TensorFlow Lite XNNPACK delegate", absl's
"W0000 ... inference_feedback_manager"). `quiet_native_stderr()` points fd 2 at a temporary file
for the duration of a native call and passes on only the lines that are not such noise (an
error of theirs still shows).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from typing import Iterator

NOISE = re.compile(
    r"^(INFO: |WARNING: All log messages before absl::InitializeLog|[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\] |"
    r"WARNING: Logging before InitGoogleLogging)")
_lock = threading.RLock()


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Within the block, fd 2 goes to a temporary file; afterwards its non-noise lines are shown.
    Native threads may log a little after the call that caused it: cover an object's whole life."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):      # no real fd 2 (embedded, captured): nothing to do
            yield
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                kept = [line for line in sink.read().decode("utf-8", "replace").splitlines()
                        if line.strip() and not NOISE.match(line)]
                if kept:
                    print("\n".join(kept), file=sys.stderr)
