"""Transfer learning with the paper's five ImageNet backbones ("modifying the final layer").

The classifier is one flat functional graph, built on the backbone's output tensor (the
backbone is *not* nested as a single layer, so Grad-CAM can reach its last convolution)::

    mk_input (S, S, 1) float32 in [0, 1]        <- models.to_model_input scales uint8 ROIs
    -> mk_resize (only if the backbone needs another side)
    -> mk_gray_to_rgb (the gray channel three times)
    -> mk_preprocess (the backbone's own preprocess_input, as a layer that saves/loads)
    -> backbone layers (include_top=False)
    -> mk_pool (global average) -> mk_dropout -> mk_head (Dense 2, softmax; column 1 = malignant)

This module builds the models (registry, weights, graph, freezing); :mod:`mammokit.finetune`
trains them, by feature extraction (CPU) or two-phase fine-tuning (GPU). The last feature map
Grad-CAM reads is found by :func:`mammokit.models.last_conv_layer`.

Keras is imported inside the functions: ``import mammokit`` stays instant.
"""
from __future__ import annotations

import difflib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from mammokit.constants import BACKBONE_MIN_SIZE, BACKBONE_NATIVE_SIZE, PAPER_BACKBONES
from mammokit.errors import ConfigError, DownloadError, MammokitError

if TYPE_CHECKING:
    import keras
    import pandas as pd

_GCS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class Backbone:
    """What the kit needs to know about one ``keras.applications`` backbone."""

    name: str            # keras.applications constructor, e.g. "VGG19"
    module: str          # keras.applications submodule holding its preprocess_input
    mode: str            # preprocess_input's mode: "caffe", "tf" or "raw" (model rescales itself)
    min_size: int        # smallest input side Keras accepts without the top
    native_size: int     # the side it saw on ImageNet
    weights_file: str    # the no-top ImageNet weights Keras caches as $KERAS_HOME/models/<file>
    weights_url: str
    weights_md5: str     # the hash Keras checks

    @property
    def paper_name(self) -> str:
        return "VGGNet19" if self.name == "VGG19" else self.name


def _entry(name: str, module: str, mode: str, weights_file: str, weights_url: str, weights_md5: str) -> Backbone:
    """A registry entry; its input sizes come from :mod:`mammokit.constants` (one home for the numbers)."""
    return Backbone(name, module, mode, BACKBONE_MIN_SIZE[name], BACKBONE_NATIVE_SIZE[name], weights_file,
                    weights_url, weights_md5)


BACKBONES: dict[str, Backbone] = {b.name: b for b in (  # one entry per constants.PAPER_BACKBONES
    _entry("VGG19", "vgg19", "caffe", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
           _GCS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
           "253f8cb515780f3b799900260a226db6"),
    _entry("InceptionV3", "inception_v3", "tf",
           "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
           _GCS + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
           "bcbd6486424b2319ff4ef7d526e38f63"),
    _entry("ResNet152V2", "resnet_v2", "tf", "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
           _GCS + "resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
           "ed17cf2e0169df9d443503ef94b23b33"),
    _entry("InceptionResNetV2", "inception_resnet_v2", "tf",
           "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
           _GCS + "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
           "d19885ff4a710c122648d3b5c3b684e4"),
    _entry("EfficientNetB5", "efficientnet", "raw", "efficientnetb5_notop.h5",
           "https://storage.googleapis.com/keras-applications/efficientnetb5_notop.h5",
           "38879255a25d3c92d5e44e04ae6cec6f"),
)}
# Measured with benchmarks/bench_backbones.py (224 px, batch 8, weights=None, TF 2.21 on a shared
# 2-core x86 CPU, Nov 2026; ±25 % run to run). Seconds per training step after the first, with
# the backbone frozen and with every layer but batch norm trainable; the first fine-tuning step
# (graph tracing); a frozen forward pass at 96 px (the classroom feature path); peak RSS (GiB).
_MEASURED_COLUMNS = ("params", "frozen_s_per_step", "finetune_s_per_step", "finetune_first_s",
                     "features96_s_per_batch", "peak_frozen_gib", "peak_finetune_gib")
MEASURED_CPU_224: dict[str, dict[str, float]] = {name: dict(zip(_MEASURED_COLUMNS, values)) for name, values in {
    "VGG19": (20_025_410, 2.08, 5.96, 10.6, 0.60, 1.39, 1.80),
    "InceptionV3": (21_806_882, 0.61, 1.55, 18.6, 0.25, 1.48, 1.71),
    "ResNet152V2": (58_335_746, 1.53, 5.16, 53.3, 0.86, 3.61, 4.03),
    "InceptionResNetV2": (54_339_810, 0.71, 1.44, 27.8, 0.86, 2.52, 3.06),
    "EfficientNetB5": (28_517_625, 1.23, 5.89, 71.7, 1.41, 3.81, 4.46),
}.items()}
_RANDOM = ("random", "none")  # spellings of weights=None a papermill string parameter can carry
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR ImageNet means; equal gray channels make the order moot


def is_random(weights: str | os.PathLike | None) -> bool:
    """True when ``weights`` asks for random initialisation (None, ``"random"``, ``"none"``)."""
    return weights is None or str(weights).lower() in _RANDOM


def backbone_spec(name: str) -> Backbone:
    """The registry entry for ``name`` (one of :data:`PAPER_BACKBONES`), or a ConfigError."""
    if name in BACKBONES:
        return BACKBONES[name]
    close = difflib.get_close_matches(str(name), BACKBONES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"backbone={name!r} is not one of the paper's backbones{hint}: "
                      f"{', '.join(BACKBONES)}")


def input_size_for(name: str, size: int, input_size: int | None = None) -> int:
    """The side the backbone sees: ``input_size``, else ``size`` raised to the backbone's minimum."""
    spec = backbone_spec(name)
    side = int(input_size) if input_size is not None else max(int(size), spec.min_size)
    if side < spec.min_size:
        raise ConfigError(f"{name} needs inputs of at least {spec.min_size}×{spec.min_size} px, got "
                          f"input_size={side}; use input_size={spec.min_size} or more (or input_size=None)")
    return side


# --- weights ------------------------------------------------------------------------------------

def keras_models_dir() -> Path:
    """Where Keras caches downloaded weights: ``$KERAS_HOME/models`` (default ``~/.keras/models``)."""
    try:
        from keras.src.backend.config import keras_home  # what Keras itself uses (read at import)
        home = keras_home()
    except ImportError:  # pragma: no cover - other Keras layouts
        home = os.environ.get("KERAS_HOME", "~/.keras")
    home = os.path.expanduser(home)
    if not os.access(home, os.W_OK):
        home = "/tmp/.keras"  # keras.utils.get_file falls back there when its home is not writable
    return Path(home) / "models"


def manual_weights_help(name: str) -> str:
    """How to place ``name``'s ImageNet weights by hand (for offline machines)."""
    spec = backbone_spec(name)
    target = keras_models_dir() / spec.weights_file
    return (f"Download {spec.weights_url} on a machine with internet access and copy it to {target} "
            f"(Keras looks there: $KERAS_HOME/models/{spec.weights_file}), or pass its path as "
            f"weights='/path/to/{spec.weights_file}', or start from random weights: weights=None (in a notebook WEIGHTS = \"random\", on the command line -p WEIGHTS random).")


def fetch_weights(name: str, timeout: float = 20.0) -> Path:
    """The cached no-top ImageNet weights of ``name``, downloading them through Keras if needed.

    Offline this fails within seconds (a socket ``timeout`` bounds each network wait) with a
    :class:`DownloadError` that says where to put the file by hand.
    """
    import keras

    spec = backbone_spec(name)
    cached = keras_models_dir() / spec.weights_file
    if cached.is_file():
        return cached
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        path = keras.utils.get_file(spec.weights_file, spec.weights_url, cache_subdir="models",
                                    file_hash=spec.weights_md5)
    except Exception as exc:  # Keras raises a bare Exception("URL fetch failure ...")
        raise DownloadError(f"could not download the ImageNet weights of {name} ({type(exc).__name__}: "
                            f"{str(exc)[:200]}). {manual_weights_help(name)}") from None
    finally:
        socket.setdefaulttimeout(previous)
    return Path(path)


def _weights_argument(name: str, weights: str | os.PathLike | None) -> str | None:
    """Turn the user's ``weights`` into what keras.applications takes, failing early and clearly."""
    if is_random(weights):
        return None
    if str(weights) == "imagenet":
        fetch_weights(name)  # cached afterwards: Keras finds it there and checks its hash
        return "imagenet"
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"weights={str(weights)!r}: no such file. Use 'imagenet', None, or the path of a "
                          f"weights file. {manual_weights_help(name)}")
    if not path.name.endswith(".h5"):
        raise ConfigError(f"weights={str(path)!r}: expected a Keras weights file ending in .h5 "
                          f"(e.g. {backbone_spec(name).weights_file} or one written by save_backbone_weights)")
    return str(path)


# --- the model ----------------------------------------------------------------------------------

def _preprocess_layer(spec: Backbone) -> keras.layers.Layer:
    """The backbone's ``preprocess_input`` for inputs in [0, 1], as a plain (saveable) layer."""
    from keras import layers

    if spec.mode == "tf":  # x/127.5 - 1 on 0..255 pixels
        return layers.Rescaling(2.0, offset=-1.0, name="mk_preprocess")
    if spec.mode == "caffe":  # 0..255 BGR minus the ImageNet mean
        return layers.Rescaling(255.0, offset=[-m for m in _CAFFE_MEAN], name="mk_preprocess")
    return layers.Rescaling(255.0, name="mk_preprocess")  # EfficientNet rescales and normalises itself


def build_transfer(backbone: str, size: int = 96, *, input_size: int | None = None,
                   weights: str | os.PathLike | None = "imagenet", dropout: float = 0.5,
                   l2: float = 5e-5, n_classes: int = 2, seed: int = 0) -> keras.Model:
    """A 2-class classifier on ``backbone`` for ``size``×``size`` grayscale ROIs.

    Input: float32 (batch, size, size, 1) in [0, 1], as :func:`mammokit.models.to_model_input`
    makes it (:func:`mammokit.datasets.make_dataset` feeds uint8 ROIs through it). Output:
    (batch, ``n_classes``) softmax, column 1 malignant. ``weights``: ``"imagenet"`` (downloaded
    once into ``$KERAS_HOME/models``), the path of a no-top ``.h5`` weights file, or
    ``None``/``"random"``. The backbone starts frozen.
    """
    import keras
    from keras import layers

    spec = backbone_spec(backbone)
    side = input_size_for(backbone, size, input_size)
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"build_transfer: dropout={dropout!r} must be in [0, 1) (paper: 0.5)")
    weights_arg = _weights_argument(backbone, weights)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((int(size), int(size), 1), name="mk_input")
    x = inputs if side == int(size) else layers.Resizing(side, side, name="mk_resize")(inputs)
    x = layers.Concatenate(name="mk_gray_to_rgb")([x, x, x])
    x = _preprocess_layer(spec)(x)
    constructor = getattr(keras.applications, spec.name)
    try:
        base = constructor(include_top=False, weights=weights_arg, input_tensor=x)
    except MammokitError:
        raise
    except Exception as exc:  # a mismatched weights file: say which file and what fits
        raise ConfigError(f"{backbone}: could not load weights={str(weights)!r} ({type(exc).__name__}: "
                          f"{str(exc)[:300]}). The file must hold {backbone}'s no-top weights "
                          f"({spec.weights_file}) or come from save_backbone_weights.") from None
    features = layers.GlobalAveragePooling2D(name="mk_pool")(base.output)
    features = layers.Dropout(dropout, seed=seed, name="mk_dropout")(features)
    outputs = layers.Dense(n_classes, activation="softmax", name="mk_head", dtype="float32",
                           kernel_regularizer=keras.regularizers.L2(l2) if l2 else None)(features)
    model = keras.Model(inputs, outputs, name=f"{spec.name.lower()}_transfer")
    set_trainable(model, 0)
    return model


def backbone_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The backbone's layers of a :func:`build_transfer` model, input to output (no ``mk_`` layers)."""
    return [layer for layer in model.layers
            if not layer.name.startswith("mk_") and type(layer).__name__ != "InputLayer"]


def set_trainable(model: keras.Model, top_n: int | None) -> int:
    """Freeze the backbone except its top ``top_n`` weighted layers (``None`` = all); returns how
    many backbone layers now train. Batch-norm layers stay frozen, which in Keras 3 also keeps
    them in inference mode (their ImageNet statistics survive small batches). Recompile after."""
    from keras import layers

    weighted = [layer for layer in backbone_layers(model) if layer.weights]
    if top_n is not None and int(top_n) < 0:
        raise ConfigError(f"set_trainable: top_n={top_n!r} must be >= 0 or None (all layers)")
    chosen = weighted if top_n is None else weighted[max(len(weighted) - int(top_n), 0):] if top_n else []
    chosen_ids = {id(layer) for layer in chosen}
    for layer in backbone_layers(model):
        layer.trainable = id(layer) in chosen_ids and not isinstance(layer, layers.BatchNormalization)
    model.get_layer("mk_head").trainable = True
    return sum(1 for layer in chosen if layer.trainable)


def count_params(model: keras.Model) -> dict[str, int]:
    """Total, trainable and backbone parameter counts (what the notebook's cost table shows)."""
    def count(weights: Sequence[Any]) -> int:
        return int(sum(int(np.prod(w.shape)) for w in weights))
    backbone = count([w for layer in backbone_layers(model) for w in layer.weights])
    return {"total": count(model.weights), "trainable": count(model.trainable_weights), "backbone": backbone}


def save_backbone_weights(model: keras.Model, path: Path | str) -> Path:
    """Write the backbone's weights to ``path`` (``.weights.h5``): a file ``weights=`` accepts."""
    import keras

    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ConfigError(f"save_backbone_weights: {path} must end in .weights.h5")
    # the same graph keras.applications built (mk_input .. backbone output), so its layout matches
    keras.Model(model.input, backbone_layers(model)[-1].output).save_weights(path)
    return path


def measured_costs(names: Sequence[str] = PAPER_BACKBONES) -> pd.DataFrame:
    """Size and CPU cost of each backbone (:data:`MEASURED_CPU_224`) with its input limits."""
    import pandas as pd

    return pd.DataFrame([{"backbone": n, "params_M": round(MEASURED_CPU_224[n]["params"] / 1e6, 1),
                          "min_side": backbone_spec(n).min_size, "imagenet_side": backbone_spec(n).native_size,
                          **{k: v for k, v in MEASURED_CPU_224[n].items() if k != "params"}} for n in names])
