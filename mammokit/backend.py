"""TensorFlow, loaded once and quietly (start-up chatter off, real warnings kept), and the devices it runs on.

Importing TensorFlow prints C++ log lines straight to file descriptor 2 (CUDA probes on a
machine without a GPU, CPU-feature notes, absl's "log messages before InitializeLog"), and
the first device query adds a ``cuInit`` error. Jupyter shows fd 2 as red blocks in every
notebook and its HTML export, so a beginner reads errors that are not errors.
``TF_CPP_MIN_LOG_LEVEL`` cannot stop them (they come before TensorFlow's own logging is set
up), so :func:`load_tensorflow` runs the import and the first device query with fd 2 sent
to a temporary file, then writes back every line that is not known start-up noise.
``TF_CPP_MIN_LOG_LEVEL=1`` (unless set) then hides later INFO lines such as tf.data's
"Local rendezvous is aborting"; warnings and errors still show.

``mammokit``'s lazy loader calls :func:`load_tensorflow` before the first of
:data:`TENSORFLOW_MODULES` is used, so ``mk.models`` in a notebook is enough; ``mammokit.exercises``
does the same before it loads a notebook's exercises that import Keras.

Devices: :func:`configure_device` (mixed precision on a GPU), :func:`device_report`,
:func:`distribution_strategy` / :func:`strategy_scope` (``MirroredStrategy`` when there are
several GPUs), used by :mod:`mammokit.train` and notebook 04.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, ContextManager, Iterator


if TYPE_CHECKING:
    import tensorflow as tf

_STRATEGY = None  # created once: TensorFlow dislikes several MirroredStrategy objects

# Modules whose functions import TensorFlow or Keras (tests/test_backend.py keeps it complete).
TENSORFLOW_MODULES = frozenset({
    "crossval", "datasets", "detector", "domain", "explain", "finetune", "leakage", "models", "online", "patches",
    "recipes",
    "train", "transfer",
    "exercises.ex04_convnet", "exercises.ex05_transfer_learning",
})


NOISE = re.compile("|".join([
    r"All log messages before absl::InitializeLog\(\) is called",
    r"cudart_stub\.cc",                       # "Could not find cuda drivers on your machine"
    r"cpu_feature_guard\.cc",                 # "This TensorFlow binary is optimized to use ..."
    r"To enable the following instructions: .* rebuild TensorFlow",
    r"cuda_platform\.cc.*cuInit",             # first device query without a GPU
    r"Unable to register cu(DNN|FFT|BLAS) factory",  # duplicate CUDA plugins (Colab GPU)
    r"computation_placer\.cc.*already registered",
    r"TF-TRT Warning: Could not find TensorRT",
    r"oneDNN custom operations are on",
    r"successful NUMA node read from SysFS",
    r"Attempting to register factory for plugin",
    r"cuda_executor\.cc.*could not open file to read NUMA node",
]))


def is_noise(line: str) -> bool:
    """True for a known TensorFlow start-up line that says nothing a student must act on.

    >>> is_noise("I0000 00:00:17.4 4379 cudart_stub.cc:31] Could not find cuda drivers")
    True
    >>> is_noise("W0000 tensorflow/core/kernels/data/generator_dataset_op.cc:108] Error occurred")
    False
    """
    return bool(NOISE.search(line))


@contextmanager
def start_up_noise_dropped() -> Iterator[None]:
    """Send fd 2 to a temporary file for the block, then write back all but the noise lines.

    Works at the file-descriptor level, so it catches what C++ code prints too.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if line.strip() and not is_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


@contextmanager
def retracing_expected() -> Iterator[None]:
    """Hide TensorFlow's Python-side warnings (ERROR and worse still show) inside the block.

    For loops that build a fresh model per fold or per seed: TensorFlow then warns that a
    function "triggered tf.function retracing", which is expected there and alarms students.
    """
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run inside :func:`start_up_noise_dropped` with the first device query."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...: the real loader's
        if name == "real":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self.real, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        with start_up_noise_dropped():
            self.real.exec_module(module)
            try:
                module.config.list_physical_devices()  # the CUDA probe, here rather than in a student's cell
            except Exception:  # noqa: BLE001 — TensorFlow did load; a failing probe is for the caller's own query
                pass


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the standard path finder does, with :class:`_QuietLoader` as its loader.

    ``mk.models`` goes through :func:`load_tensorflow`, but a module can also be reached by a plain
    import (``mk.params.train_config`` imports ``mammokit.train``, which imports ``mammokit.models``;
    a student writes ``import keras``), and then TensorFlow's start-up lines came out in red."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Make the first import of TensorFlow, however it is reached, drop its start-up noise (once)."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


def load_tensorflow() -> ModuleType:
    """Import TensorFlow (and Keras) once, dropping start-up noise from fd 2; return ``tf``."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    with start_up_noise_dropped():
        import keras  # noqa: F401  (imports TensorFlow, its backend)
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe happens here, once
    return tf


# --- devices ---------------------------------------------------------------------------------------

def configure_device(mixed_precision: bool | str = "auto") -> str:
    """Use mixed precision (float16 compute, float32 weights) on a GPU; return the device report.

    Call before building a model. ``"auto"`` turns it on only when a GPU is visible: on a CPU
    float16 is slower, not faster.
    """
    tf = load_tensorflow()
    import keras

    gpus = tf.config.list_physical_devices("GPU")
    on = bool(gpus) if mixed_precision == "auto" else bool(mixed_precision)
    keras.mixed_precision.set_global_policy("mixed_float16" if on else "float32")
    return device_report()


def distribution_strategy() -> tf.distribute.Strategy:
    """``MirroredStrategy`` over all GPUs when there are several, else TensorFlow's default."""
    global _STRATEGY
    tf = load_tensorflow()

    if _STRATEGY is None:
        gpus = tf.config.list_physical_devices("GPU")
        _STRATEGY = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    return _STRATEGY


def strategy_scope() -> ContextManager[Any]:
    """``with strategy_scope(): model = build_convnet(...)`` — build under the strategy ``fit`` uses."""
    return distribution_strategy().scope()


def device_report() -> str:
    """Which devices TensorFlow sees, the precision policy and the distribution strategy."""
    tf = load_tensorflow()
    import keras

    cpus = tf.config.list_physical_devices("CPU")
    gpus = tf.config.list_physical_devices("GPU")
    strategy = distribution_strategy()
    lines = [f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
             f"CPU: {len(cpus)} device(s), {os.cpu_count()} core(s)",
             f"GPU: {len(gpus)} ({', '.join(g.name for g in gpus)})" if gpus else
             "GPU: none — training runs on the CPU (use the classroom profile, or Colab with a GPU runtime)",
             f"precision policy: {keras.mixed_precision.global_policy().name}",
             f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s)"]
    return "\n".join(lines)
