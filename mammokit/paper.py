"""The paper's reported numbers explained, with how each was obtained, so we compare like with like.

Mahmood et al., PLoS ONE 17(1): e0263126, 2022. The numbers themselves (Tables 2, 3 and 4, the
headline figures, counts) live in :mod:`mammokit.constants`, where every step can read them; this
module turns them into tables and sets them beside the kit's. :data:`PROTOCOL` spells out the
evaluation protocol the paper describes and :data:`KIT_PROTOCOL` the one this kit uses, because the
two are not the same experiment: the paper inflates the pooled data eightfold and, as its split
counts suggest, *then* splits (copies of one ROI can sit in training and test), reports single
numbers without intervals, and does not say how the threshold was set.
"""
from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from mammokit.constants import HEADLINE, HYPERPARAMETERS, MODELS, TABLE_3, TABLE_4
from mammokit.errors import ConfigError


OUR_NAMES = MappingProxyType({
    "VGGNet19": "VGG19", "InceptionV3": "InceptionV3", "ResNet152V2": "ResNet152V2",
    "InceptionResNetV2": "InceptionResNetV2", "EfficientNetB5": "EfficientNetB5", "Proposed Model": "ConvNet",
})
"""Paper name -> the name the kit uses (``mammokit.models.build_convnet`` is the "Proposed Model")."""

_COLUMNS = ("precision", "sensitivity", "f_score", "accuracy", "auc")
"""The kit's test metrics that can be set beside the paper's (``accuracy`` is TEST accuracy)."""

SPLIT = MappingProxyType({
    "precision": "not stated", "sensitivity": "not stated", "f_score": "not stated",
    "train_accuracy": "training", "accuracy": "test", "auc": "test",
})
"""Which split each paper number comes from. Tables 3-4's "Accuracy" column is TRAINING accuracy
("achieved training accuracies 0.72, 0.73, 0.77, 0.73, and 0.65 as depicts in Table 4"; the
ConvNet's 0.94 / 0.98 are its training accuracies, 0.93 / 0.97 its test accuracies, in the
text); the AUCs are "when tested"; for precision, sensitivity and F-score the paper does not
say (Fig 6b plots them for "training and testing"). Only the ConvNet has a test accuracy."""


PROTOCOL = MappingProxyType({
    "data": "MIAS (322 films; benign/malignant ROIs) and a private set of 580 mammograms (482 malignant, 98 benign)",
    "roi": "224×224 crops around the annotated centre after denoising, CLAHE and an Otsu breast crop",
    "augmentation": "the pooled ROIs inflated 8× (Table 1) to 5568 images (1296 benign, 4272 malignant), apparently "
                    "BEFORE splitting: the text does not say, but its split counts are 60/20/20 of the 5568 and "
                    "not multiples of 8 (notebook 03)",
    "split": "60% train / 20% test (Table 2) of the inflated images: 3341 train and 1114 test images "
             "(5568 × 0.6 and × 0.2); no mention of keeping a patient or an original ROI on one side",
    "cross_validation": "'stratified 5-fold cross-validation' is named; how folds relate to the 60/20 split, "
                        "and whether tables show a fold mean or one split, is not said",
    "threshold": "not stated (softmax argmax, i.e. 0.5, presumably)",
    "uncertainty": "none: single values with two decimals, no standard deviation or confidence interval",
    "accuracy_eq8": "Eq. 8 averages accuracy over the N test runs",
    "training": "Adam lr 0.001, batch 32, 90 epochs × 80 steps, L2 5e-5, dropout 0.5, He (MSRA) init",
})

KIT_PROTOCOL = MappingProxyType({
    "data": "MIAS benign/malignant ROIs with coordinates (here: whatever catalog the notebook loaded)",
    "roi": "crops around the annotated centre after the kit's preprocessing, resized to ROI_SIZE (paper profile: 224)",
    "augmentation": "training split only, after splitting",
    "split": "patients kept on one side (mammokit.splits); both films of a woman stay together",
    "cross_validation": "k-fold grouped by patient, stratified by label; a fresh model per fold",
    "threshold": "chosen on each fold's validation patients (Youden's J), never on test",
    "uncertainty": "mean ± sd over folds and a 95% patient-bootstrap interval of the pooled out-of-fold predictions",
    "accuracy_eq8": "each metric per fold, then their mean (Eq. 8's average) and the pooled out-of-fold value",
    "training": "Adam lr 0.001, batch and epochs from the profile (paper profile: Table 2), class-weighted loss, "
                "the epoch of lowest validation loss, except notebook 04's two runs and the lesion detector, which keep "
                "the last epoch (their validation loss swings too much from epoch to epoch to choose by)",
})


def model_name(name: str) -> str:
    """The kit's name for a model whatever its spelling: ``convnet`` / ``Proposed Model`` -> ``ConvNet``,
    ``vgg19`` / ``VGGNet19`` -> ``VGG19``; unknown names come back unchanged."""
    key = str(name).strip().lower().replace("_", "").replace(" ", "").replace("-", "")
    for paper_name, ours in OUR_NAMES.items():
        if key in (paper_name.lower().replace(" ", ""), ours.lower()):
            return ours
    return str(name)


def table(dataset: str = "MIAS") -> pd.DataFrame:
    """Table 4 (``"MIAS"``) or Table 3 (``"Private"``) as a DataFrame, each number under its split.

    Columns: ``model`` (kit name), ``paper_model`` (as printed), ``precision, sensitivity,
    f_score``, ``train_accuracy`` (the printed "Accuracy" column), ``accuracy`` (TEST accuracy,
    from the text: ConvNet only, NaN for the backbones), ``auc``, ``dataset``, ``source``.
    :data:`SPLIT` says which split each column comes from.
    """
    key = dataset.strip().lower()
    if key not in ("mias", "private"):
        raise ConfigError(f"mammokit.paper.table: dataset={dataset!r}; use 'MIAS' (Table 4) or 'Private' (Table 3)")
    values = TABLE_4 if key == "mias" else TABLE_3
    frame = pd.DataFrame(values, columns=["precision", "sensitivity", "f_score", "train_accuracy", "auc"])
    frame.insert(4, "accuracy", np.nan)
    frame.loc[len(frame) - 1, "accuracy"] = HEADLINE[f"{key}_test_accuracy"]  # the ConvNet, from the text
    frame.insert(0, "paper_model", list(MODELS))
    frame.insert(0, "model", [OUR_NAMES[m] for m in MODELS])
    frame["dataset"] = "MIAS" if key == "mias" else "Private"
    frame["source"] = "Table 4" if key == "mias" else "Table 3"
    return frame


def consistency(dataset: str = "MIAS", tolerance: float = 0.015) -> pd.DataFrame:
    """Check each row's F-score against Eq. 11 (harmonic mean of precision and sensitivity).

    Rounding to two decimals moves F by at most ~0.01, so a gap above ``tolerance`` means
    the printed numbers cannot all come from one confusion matrix. Columns: ``model,
    f_score, f_from_eq11, gap, consistent``.
    """
    t = table(dataset)
    f = 2 * t.precision * t.sensitivity / (t.precision + t.sensitivity)
    out = t[["model", "f_score"]].assign(f_from_eq11=f.round(3), gap=(t.f_score - f).abs().round(3))
    out["consistent"] = out.gap <= tolerance
    return out


def compare(ours: pd.DataFrame, dataset: str = "MIAS", metrics: tuple[str, ...] = _COLUMNS) -> pd.DataFrame:
    """Our numbers beside the paper's, one row per (model, metric).

    ``ours`` has a ``model`` column (kit names: ``ConvNet``, ``VGG19``, ...) and metric
    columns (as :func:`mammokit.evaluate.metrics_table` returns), optionally
    ``<metric>_low``/``<metric>_high`` intervals. Ours are TEST metrics (``accuracy`` = test
    accuracy), set beside the paper's test numbers; ``train_accuracy``, when ours has it, beside
    the paper's training accuracy. Pairs where the paper has no number for that split are left
    out. Returns ``model, metric, split, paper, ours, ours_low, ours_high, difference,
    paper_inside_ci`` (``split``: the paper's, see :data:`SPLIT`; NaN where we have no interval).
    """
    if "model" not in ours.columns:
        raise ConfigError("mammokit.paper.compare: `ours` needs a 'model' column (ConvNet, VGG19, ...)")
    paper = table(dataset).set_index("model")
    rows = []
    for _, row in ours.iterrows():
        name = model_name(row["model"])
        if name not in paper.index:
            continue
        for m in [*metrics, "train_accuracy"]:
            if m not in row.index or pd.isna(paper.loc[name, m]) or pd.isna(row[m]):
                continue
            low, high = row.get(f"{m}_low", np.nan), row.get(f"{m}_high", np.nan)
            inside = np.nan if pd.isna(low) else bool(low <= paper.loc[name, m] <= high)
            rows.append({"model": name, "metric": m, "split": SPLIT[m], "paper": paper.loc[name, m],
                         "ours": float(row[m]),
                         "ours_low": low, "ours_high": high, "difference": float(row[m]) - paper.loc[name, m],
                         "paper_inside_ci": inside})
    return pd.DataFrame(rows, columns=["model", "metric", "split", "paper", "ours", "ours_low", "ours_high",
                                       "difference", "paper_inside_ci"])


def protocols() -> pd.DataFrame:
    """The paper's protocol beside the kit's, one row per aspect (for a notebook table)."""
    aspects = list(dict.fromkeys([*PROTOCOL, *KIT_PROTOCOL]))
    return pd.DataFrame({"aspect": aspects,
                         "paper": [PROTOCOL.get(a, "") for a in aspects],
                         "this kit": [KIT_PROTOCOL.get(a, "") for a in aspects]})


# --- our results laid out like the paper's tables -------------------------------------------------

def comparison_table(predictions, dataset: str = "MIAS", split: str = "test", threshold: float = 0.5,
                     ci: bool = False, n_boot: int = 1000, seed: int = 0):
    """Our test metrics beside the paper's Table 4 (MIAS) or 3 (Private), laid out like them.

    ``predictions``: :func:`mammokit.runs.read_predictions` of a run (``model`` column).
    One row per model in the paper's order (then any model the paper lacks); columns
    ``model, n`` then, for precision, sensitivity, F-score, accuracy and AUC, ``<metric>``
    (ours, on ``split``), ``<metric>_low/_high`` (patient-bootstrap 95% CI, with ``ci=True``)
    and ``<metric>_paper`` (the paper's TEST accuracy: NaN for the backbones, which it reports
    only on training); then ``train_accuracy`` (ours on the training split, when the
    predictions have one) beside ``train_accuracy_paper`` (Tables 3-4's "Accuracy" column).
    """
    from mammokit import evaluate

    part = predictions[predictions["split"] == split]
    if part.empty:
        raise ConfigError(f"comparison_table: no predictions on split={split!r}; run the models first")
    ours = evaluate.metrics_table(part, by="model", threshold=threshold, ci=ci, n_boot=n_boot,
                                  seed=seed).set_index("model")
    ref = table(dataset).set_index("model")
    order = [m for m in ref.index if m in ours.index] + [m for m in ours.index if m not in ref.index]
    rows = []
    for name in order:
        row = {"model": name, "n": int((part["model"] == name).sum())}
        for m in ("precision", "sensitivity", "f_score", "accuracy", "auc"):
            row[m] = float(ours.loc[name, m])
            if ci:
                row[f"{m}_low"], row[f"{m}_high"] = ours.loc[name, f"{m}_low"], ours.loc[name, f"{m}_high"]
            row[f"{m}_paper"] = float(ref.loc[name, m]) if name in ref.index else np.nan
        trained = predictions[(predictions["split"] == "train") & (predictions["model"] == name)]
        row["train_accuracy"] = (float(evaluate.binary_metrics(trained["label"], trained["proba"], threshold)["accuracy"])
                                 if len(trained) else np.nan)
        row["train_accuracy_paper"] = float(ref.loc[name, "train_accuracy"]) if name in ref.index else np.nan
        rows.append(row)
    return pd.DataFrame(rows)



def comparison_text(table) -> pd.DataFrame:
    """:func:`comparison_table` as Tables 3-4 print it: one cell per metric, ``ours [95% CI] | paper``,
    test beside test and training beside training (the paper's "Accuracy" column is training accuracy)."""
    def cell(row, m: str) -> str:
        ours = f"{row[m]:.2f}" if pd.notna(row[m]) else "–"
        if pd.notna(row.get(f"{m}_low", np.nan)):
            ours += f" [{row[f'{m}_low']:.2f}, {row[f'{m}_high']:.2f}]"
        return ours + (f" | {row[f'{m}_paper']:.2f}" if pd.notna(row[f"{m}_paper"]) else " | –")

    names = {"precision": "Precision", "sensitivity": "Sensitivity", "f_score": "F-Score",
             "accuracy": "Test accuracy", "auc": "AUC (test)"}
    out = pd.DataFrame([{"Algorithms": r["model"], "n test": r["n"], **{v: cell(r, k) for k, v in names.items()}}
                        for _, r in table.iterrows()]).set_index("Algorithms")
    if "train_accuracy" in table:
        out["Training accuracy"] = [cell({"t": r["train_accuracy"], "t_paper": r["train_accuracy_paper"]}, "t")
                                    for _, r in table.iterrows()]
    return out


def hyperparameter_table(**run) -> pd.DataFrame:
    """The paper's Table 2 beside this run's values (``run``: batch_size=32, epochs=90, ...)."""
    rows = [{"parameter": k, "paper (Table 2)": v, "this run": run.get(k, "—")}
            for k, v in HYPERPARAMETERS.items()]
    extra = [{"parameter": k, "paper (Table 2)": "—", "this run": v} for k, v in run.items()
             if k not in HYPERPARAMETERS]
    return pd.DataFrame(rows + extra).set_index("parameter").astype(str)


# --- where the kit departs from the paper, and where the paper disagrees with itself -------------

DEPARTURES = (
    # (notebook, topic, the paper, this kit, why)
    ("02_preprocessing", "denoising filter",
     "\"Median, Gaussian, and Bilateral filtering\"; no order or sizes given",
     "one filter in the chain, median 5×5 by default (the explorer offers all three)",
     "three filters in a row blur small calcifications; the paper gives no settings to copy"),
    ("02_preprocessing", "breast mask threshold",
     "\"global threshold method such as Otsu's thresholding\" plus \"standard morphological techniques\"",
     "the lower of the three-class Otsu thresholds (otsu_classes=3), opening/closing, largest component",
     "two-class Otsu cuts fatty tissue away when the pectoral muscle and labels form a bright third class"),
    ("02_preprocessing", "ROI size",
     "crops from the annotated centre and radius, \"downsized\" to 222×224",
     "a square of 2 × 1.5 × radius px (at least 48) resized to ROI_SIZE (paper profile 224)",
     "resizing every lesion to one size removes its absolute size, a cue a radiologist uses"),
    ("02_preprocessing", "pectoral muscle",
     "ROIs contain \"breast tissue solely, without pectoral tissue, label, or background noise\"",
     "pectoral removal off by default (remove_pectoral=False); labels and background are masked",
     "the heuristic can cut dense tissue next to the muscle; ROIs around lesions rarely reach the muscle"),
    ("02_preprocessing", "orientation", "not mentioned",
     "films flipped so the chest wall is on the left (orient=True)",
     "left and right breasts then look alike to the model"),
    ("04_convnet", "L2 regularisation",
     "\"0.00005 weight decay\"; Eq. 6 adds λ/2·‖θ‖² to the loss",
     "Keras L2(5e-5) on every kernel, i.e. 5e-5·‖θ‖²: λ = 1e-4 in Eq. 6's terms",
     "under Adam an L2 term in the loss is not decoupled weight decay (AdamW); the paper does not say which"),
    ("04_convnet", "class weights",
     "Eq. 6 has a \"manual re-scaling weight\" w_n; its values are not given",
     "class-balanced weights N / (2·N_class) for every model",
     "the rarer class counts as much as the common one; probabilities lean towards 0.5 (notebook 06)"),
    ("04_convnet", "augmentation",
     "Table 1 inflation ×8 of the pooled data, before the split as its counts suggest, and ImageDataGenerator batches",
     "the training split only, after a patient split: Table 1 inflation ×8 in the paper profile (notebook 04), "
     "online Keras preprocessing layers in classroom; notebook 03 shows both",
     "augmenting before splitting leaks copies of test ROIs into training (notebook 03)"),
    ("05_transfer_learning", "transfer learning schedule",
     "backbones \"fine-tuned by modifying the final fully-connected layers\"; no schedule given",
     "two phases: a new head on the frozen backbone, then the top 20 weighted layers unfrozen at lr/10, "
     "batch norm frozen; on a CPU, frozen features and a logistic-regression head",
     "a common recipe that keeps ImageNet features intact on a few dozen ROIs"),
    ("06_evaluation", "split and threshold",
     "60/20/20 of the augmented images; threshold not stated; single numbers",
     "patient-grouped splits and folds, threshold chosen on validation patients, bootstrap intervals",
     "copies and patients on both sides inflate scores; a few dozen test ROIs need an interval"),
    ("06_evaluation", "cross-validated ConvNet",
     "one ConvNet at 224 px, trained 90 epochs × 80 steps; its filter counts are not given",
     "classroom: 64 px ROIs, filters 16-32-64-128 (half of notebook 04's), 15 epochs × 10 steps per fold "
     "(mk.recipes.CONVNET); the paper profile: notebook 04's net at 224 px, Table 2's schedule",
     "four ConvNet recipes × five folds must fit a class on a CPU; on the development subset the smaller "
     "net scored a little below the full one, both at chance"),
)

WORKSHEET = (
    # (topic, one place in the paper, another place (or the arithmetic), question for the student)
    ("activation", "text: four convolution layers \"integrated with rectified linear unit activation\"",
     "Eq. 2: \"sigmoid and hyperbolic function\", e_f(x) = 1/(1+exp(−x)), tanh(x)",
     "Which activation did the model use? What would sigmoid do to gradients in a 12-layer network?"),
    ("downsampling", "section \"Striding for feature reducing\": the method \"subsamples using a more extensive "
     "stride convolution\"", "architecture text and Fig 3: stride (1×1) convolutions followed by max-pooling",
     "Which one reduces the feature maps? Build both and compare parameters and outputs."),
    ("dropout", "text: \"an average dropout ratio of between 0.3 and 0.6\"", "Table 2: dropout 0.5",
     "Is 0.5 one draw from that range, or the only value used?"),
    ("activation after pooling", "\"An activation function is used after the pooling layers\"",
     "the usual order is conv → (norm) → activation → pool",
     "For ReLU and max-pooling the order does not matter: both are monotone, so max(relu(x)) = relu(max(x)). "
     "Check it on an array. Would it matter for average pooling with sigmoid?"),
    ("patch size", "\"downsized and processed into the spatial resolution of 222 × 224\"",
     "Table 2 and the backbones: square 224 × 224 inputs", "Is 222 a typo? What would a 222×224 input do to the backbones?"),
    ("MIAS counts", "\"64 images as benign cases, 52 as malignant, and 207 as normal\"",
     "64 + 52 + 207 = 323, but the same paragraph says \"322 digital mammographic images\"", "Count the classes in Info.txt (notebook 01): where does the extra one come from?"),
    ("BI-RADS labels", "\"only BIRADS ... annotations as benign (∈ 2, 3) and malignant (∈ 4, 5, 6) are used\"",
     "MIAS's Info.txt gives B or M severity, no BI-RADS category",
     "Which labels could the authors actually have used for MIAS?"),
    ("pooled images", "5568 augmented images (1296 benign, 4272 malignant) from both datasets, split 60/20/20",
     "Tables 3 and 4 report each dataset separately",
     "How were the pooled test images divided between the tables? Could a model see Private copies when scored on MIAS?"),
    ("steps per epoch", "\"90 epochs at a rate of 80 steps per epoch, with a batch size of 32\"",
     "80 × 32 = 2560 images per epoch, but the training set holds 3341",
     "How much of the training set does one 'epoch' see? Does it matter over 90 of them?"),
    ("F-scores", "Eq. 11: F = 2·precision·sensitivity / (precision + sensitivity)",
     "Tables 3–4: several printed F-scores differ from Eq. 11 by more than rounding allows",
     "Run mk.paper.consistency('MIAS') and ('Private'): which rows cannot come from one confusion matrix?"),
    ("accuracy column", "Tables 3–4 \"Accuracy\": \"training accuracies 0.72, 0.73, 0.77, 0.73, and 0.65 as depicts in Table 4\"",
     "the ConvNet's test accuracies 0.93 (MIAS) and 0.97 (Private) appear only in the text",
     "Why is a training accuracy a weak basis for ranking models?"),
    ("Table 5", "Table 5 sets the ConvNet's 0.98 (\"an overall training 0.98 accuracy\") beside other studies",
     "those studies segment, grade or classify different things on MIAS, with their own protocols",
     "The kit does not use Table 5: what would a fair comparison with another study need?"),
)


def departures(notebook: str | None = None) -> pd.DataFrame:
    """Where the kit departs from the paper or fills a gap it leaves (all rows, or one notebook's)."""
    frame = pd.DataFrame(DEPARTURES, columns=["notebook", "topic", "the paper", "this kit", "why"])
    if notebook is not None:
        frame = frame[frame["notebook"] == notebook]
    return frame.reset_index(drop=True)


def worksheet() -> pd.DataFrame:
    """The paper's own inconsistencies, as questions for students (one row per topic)."""
    return pd.DataFrame(WORKSHEET, columns=["topic", "the paper says", "but", "question"])


def inconsistent_f_scores(tolerance: float = 0.015) -> tuple[int, int]:
    """How many of Tables 3-4's F-scores Eq. 11 cannot produce from the printed precision and
    sensitivity, out of how many (both tables)."""
    both = pd.concat([consistency("MIAS", tolerance), consistency("Private", tolerance)])
    return int((~both["consistent"]).sum()), len(both)
