"""The numbers the kit takes from the paper, from MIAS and from the Keras backbones, one home each.

Infrastructure at the very bottom: it imports nothing from mammokit, so any step (models,
roi, transfer, ...) can use the paper's numbers without ranking below :mod:`mammokit.paper`,
which keeps the functions that explain and compare them. Each value says where it comes from:
"the paper" is Mahmood et al., PLoS ONE 17(1): e0263126, 2022 (``shared/paper/``), quoted as
printed; a value the paper does not give says so and why the kit picked it.
"""
from __future__ import annotations

from types import MappingProxyType

# --- the paper ---------------------------------------------------------------------------------------

PAPER_ROI_SIZE = 224
"""ROI side in px: "we cropped the patches of ROI masses to a size of 224 × 224 pixels" (Methods,
ROI extraction; elsewhere it says "222 × 224", see :data:`mammokit.paper.WORKSHEET`)."""

PAPER_SPLIT = (0.6, 0.2, 0.2)
"""Train, validation, test fractions: "split into training, testing, and validation sets in the
proportions of 60%, 20%, and 20%" (Datasets)."""

PAPER_INFLATE_FACTOR = 8
"""Copies per ROI: "artificially inflates the datasets eight times" (Data augmentation, Table 1)."""

PAPER_FILTERS = (32, 64, 128, 256)
"""Filters of the ConvNet's four convolution blocks. NOT in the paper (it gives no filter counts);
the kit's choice for the paper profile: the common doubling from 32 (see :data:`mammokit.paper.DEPARTURES`)."""

HYPERPARAMETERS = MappingProxyType({
    "batch_size": 32, "learning_rate": 0.001, "epochs": 90, "steps_per_epoch": 80,
    "weight_decay": 0.00005, "dropout": 0.5, "momentum": 0.9, "activation": "softmax",
    "optimizer": "Adam", "train_split": PAPER_SPLIT[0], "test_split": PAPER_SPLIT[2],
})
"""Table 2, "Hyperparameters configurations of proposed architecture", and Training: "Adam optimizer
with a learning rate of 0.001 and momentum constant of 0.9 ... 90 epochs"."""

COUNTS = MappingProxyType({
    "factor": PAPER_INFLATE_FACTOR, "augmented": 5568, "benign": 1296, "malignant": 4272,
    "train": 3341, "test": 1114, "validation": 1113,
})
"""Image counts as the paper prints them: it "artificially inflates the datasets eight times" and
"creates the 5568 mammogram images that contain 1296 benign and 4272 malignant"; "We employed 3341
mammography images (60% of the dataset) in the training set, 1114 (20% of the dataset) in the test
set, and 1113 (20% of the dataset) in the validation set". Notebook 03 reads from them when the
split happened (the text does not say)."""

HEADLINE = MappingProxyType({
    # Abstract and conclusion (Private dataset, ConvNet)
    "private_train_accuracy": 0.98, "private_test_accuracy": 0.97, "private_sensitivity": 0.99,
    "private_f_score": 0.98, "private_auc": 0.99,
    # Results text (MIAS, ConvNet): Fig 6a and Fig 7a
    "mias_train_accuracy": 0.94, "mias_test_accuracy": 0.93, "mias_auc": 0.95,
    "mias_f_score": 0.91, "mias_precision": 0.88, "mias_sensitivity": 0.94,
})
"""Single numbers the paper quotes in prose (abstract, Results, Figs 6-7); e.g. ``HEADLINE["mias_auc"]`` = 0.95."""

MODELS = ("VGGNet19", "InceptionV3", "ResNet152V2", "InceptionResNetV2", "EfficientNetB5", "Proposed Model")
"""Model names as Tables 3 and 4 print them, in their row order."""

TABLE_3 = (  # Private dataset (580 DICOM mammograms, Hayat Memorial Teaching Hospital; not public)
    (0.93, 0.92, 0.91, 0.93, 0.88),
    (0.84, 0.84, 0.82, 0.82, 0.92),
    (0.84, 0.84, 0.87, 0.82, 0.92),
    (0.79, 0.77, 0.81, 0.78, 0.88),
    (0.71, 0.61, 0.71, 0.70, 0.79),
    (0.98, 0.99, 0.98, 0.98, 0.99),
)
"""Table 3 (private dataset), one row per :data:`MODELS`: precision, sensitivity, F-score,
accuracy (training), AUC — as printed, two decimals."""

TABLE_4 = (  # MIAS
    (0.72, 0.64, 0.76, 0.72, 0.82),
    (0.74, 0.67, 0.77, 0.73, 0.83),
    (0.77, 0.74, 0.74, 0.77, 0.87),
    (0.74, 0.77, 0.78, 0.73, 0.84),
    (0.65, 0.72, 0.67, 0.65, 0.72),
    (0.88, 0.94, 0.91, 0.94, 0.95),
)
"""Table 4 (MIAS), same columns and rows as :data:`TABLE_3`."""

# --- MIAS --------------------------------------------------------------------------------------------

MIAS_FILMS = 322
"""Films in mini-MIAS: "322 digital mammographic images of 161 cases" (the paper's Datasets; mdb001-mdb322)."""

MIAS_FILM_SIDE = 1024
"""Mini-MIAS films are square: "a gray-scale with a 1024 × 1024 pixel size" (the paper's Datasets; MIAS Info.txt)."""

MIAS_MM_PER_PIXEL = 0.2
"""Pixel spacing of mini-MIAS: "with a 200 micron resolution" (the paper's Datasets); the ``row``,
``col`` and ``radius`` of a MIAS catalog are in those pixels."""

# --- the backbones (keras.applications) -----------------------------------------------------------------

PAPER_BACKBONES = ("VGG19", "InceptionV3", "ResNet152V2", "InceptionResNetV2", "EfficientNetB5")
"""The paper's five backbones, in the order of Tables 3-4 (Keras' names; the paper prints "VGGNet19")."""

BACKBONE_MIN_SIZE = MappingProxyType({
    "VGG19": 32, "InceptionV3": 75, "ResNet152V2": 32, "InceptionResNetV2": 75, "EfficientNetB5": 32,
})
"""Smallest input side each accepts without its top: keras.applications' docs ("width and height
should be no smaller than 32" / "75" for the Inception family)."""

BACKBONE_NATIVE_SIZE = MappingProxyType({
    "VGG19": 224, "InceptionV3": 299, "ResNet152V2": 224, "InceptionResNetV2": 299, "EfficientNetB5": 456,
})
"""The input side each saw on ImageNet: keras.applications' docs (default ``input_shape``)."""
