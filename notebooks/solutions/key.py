"""The answer key: each exercise's solution cell (otter's `# BEGIN SOLUTION` markers around what
students write), by exercise name.

Not part of the installed package (students import `mammokit`, never this file): `mammokit masters`
puts these cells into the masters beside this file, and `otter assign` strips them from the student
notebooks. The repository is public, so for graded use keep this file and the masters in a private
fork (README, "What is public").
"""

SOLUTIONS = {
    'q01_row_index': (
        "def row_index(y, height):\n"
        "    \"\"\"Array row of a MIAS y coordinate (origin bottom-left).\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return height - 1 - y\n"
        "    # END SOLUTION"
    ),
    'q01_patient_id': (
        "def patient_id(image_id):\n"
        "    \"\"\"'mdb005' -> 'p003': two consecutive films per patient.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    number = int(image_id[3:])\n"
        "    return f\"p{(number + 1) // 2:03d}\"\n"
        "    # END SOLUTION"
    ),
    'q01_side': (
        "def side(image_id):\n"
        "    \"\"\"'L' for an even MIAS number, 'R' for an odd one.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return \"L\" if int(image_id[3:]) % 2 == 0 else \"R\"\n"
        "    # END SOLUTION"
    ),
    'q01_class_counts': (
        "def class_counts(catalog):\n"
        "    \"\"\"Rows per class: the imbalance every later notebook fights.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return {\"normal\": int((catalog[\"abnormality\"] == \"NORM\").sum()),\n"
        "            \"benign\": int((catalog[\"severity\"] == \"B\").sum()),\n"
        "            \"malignant\": int((catalog[\"severity\"] == \"M\").sum())}\n"
        "    # END SOLUTION"
    ),
    'q01_films_per_patient': (
        "films_per_patient_guess = 2  # SOLUTION"
    ),
    'q02_salt_pepper': (
        "salt_pepper_guess = \"median\"  # SOLUTION"
    ),
    'q02_otsu': (
        "def otsu_from_histogram(hist):\n"
        "    \"\"\"Otsu's threshold from a 256-bin histogram.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    p = hist / hist.sum()\n"
        "    levels = np.arange(len(p))\n"
        "    best, best_t = -1.0, 0\n"
        "    for t in range(len(p) - 1):\n"
        "        w0, w1 = p[:t + 1].sum(), p[t + 1:].sum()\n"
        "        if w0 == 0 or w1 == 0:\n"
        "            continue\n"
        "        mu0 = (p[:t + 1] * levels[:t + 1]).sum() / w0\n"
        "        mu1 = (p[t + 1:] * levels[t + 1:]).sum() / w1\n"
        "        if w0 * w1 * (mu0 - mu1) ** 2 > best:\n"
        "            best, best_t = w0 * w1 * (mu0 - mu1) ** 2, t\n"
        "    return best_t\n"
        "    # END SOLUTION"
    ),
    'q02_open_mask': (
        "import cv2\n"
        "\n"
        "def open_mask(binary, kernel):\n"
        "    \"\"\"Erode then dilate with a disc: drops specks.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))\n"
        "    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, disc)\n"
        "    # END SOLUTION"
    ),
    'q02_largest_component': (
        "def largest_component(mask):\n"
        "    \"\"\"The biggest 8-connected blob: the breast, not the film label.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)\n"
        "    if n <= 1:\n"
        "        return np.zeros(mask.shape, bool)\n"
        "    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))\n"
        "    # END SOLUTION"
    ),
    'q02_crop': (
        "def crop_with_padding(image, row, col, size):\n"
        "    \"\"\"A centred square window, zero-padded at the edges.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    top, left = int(round(row)) - size // 2, int(round(col)) - size // 2\n"
        "    padded = np.pad(image, size)\n"
        "    return padded[top + size:top + 2 * size, left + size:left + 2 * size]\n"
        "    # END SOLUTION"
    ),
    'q03_patient_split': (
        "def patient_split(table, seed):\n"
        "    \"\"\"Shuffle the PATIENTS, then cut: each patient lands on one side.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    patients = np.random.default_rng(seed).permutation(table[\"patient_id\"].unique())\n"
        "    cut1, cut2 = int(0.6 * len(patients)), int(0.8 * len(patients))\n"
        "    side = {p: 0 if i < cut1 else 1 if i < cut2 else 2 for i, p in enumerate(patients)}\n"
        "    where = table[\"patient_id\"].map(side).to_numpy()\n"
        "    return mk.splits.Split(*(np.flatnonzero(where == s) for s in range(3)))\n"
        "    # END SOLUTION"
    ),
    'q03_leaked_patients': (
        "def leaked_patients(table, split):\n"
        "    \"\"\"Patients on both sides: the leak a random split makes.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    patients = table[\"patient_id\"].to_numpy()\n"
        "    return set(patients[split.train]) & set(patients[split.test])\n"
        "    # END SOLUTION"
    ),
    'q03_same_flip': (
        "same_flip_guess = True  # SOLUTION"
    ),
    'q03_flip': (
        "def flip_left_right(image):\n"
        "    \"\"\"Mirror the columns: a left breast looks like a right one.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return image[:, ::-1].copy()\n"
        "    # END SOLUTION"
    ),
    'q03_rotate90': (
        "def rotate90(image, k):\n"
        "    \"\"\"k quarter turns counter-clockwise, exact for square ROIs.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return np.rot90(image, k).copy()\n"
        "    # END SOLUTION"
    ),
    'q03_inflated_size': (
        "inflated_size_guess = 80  # SOLUTION"
    ),
    'q04_conv_params': (
        "def conv_params(kernel, c_in, c_out, bias):\n"
        "    \"\"\"One k×k×c_in filter per output channel (+ a bias each).\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return kernel * kernel * c_in * c_out + (c_out if bias else 0)\n"
        "    # END SOLUTION"
    ),
    'q04_param_count': (
        "param_count_guess = 422_434  # SOLUTION"
    ),
    'q04_conv_block': (
        "from keras import layers\n"
        "\n"
        "def conv_block(x, filters):\n"
        "    \"\"\"Conv -> BN -> ReLU -> pool: the unit the ConvNet repeats.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    x = layers.Conv2D(filters, 3, padding=\"same\", use_bias=False)(x)\n"
        "    x = layers.BatchNormalization()(x)\n"
        "    x = layers.Activation(\"relu\")(x)\n"
        "    return layers.MaxPooling2D(2)(x)\n"
        "    # END SOLUTION"
    ),
    'q04_output_side': (
        "def output_side(size, n_blocks):\n"
        "    \"\"\"Each 2×2 pool halves the side (rounding down).\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return size // 2 ** n_blocks\n"
        "    # END SOLUTION"
    ),
    'q04_class_weights': (
        "import numpy as np\n"
        "\n"
        "def class_weights(labels):\n"
        "    \"\"\"Eq. 6: rarer class, bigger weight; each class carries half the loss.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    counts = np.bincount(labels, minlength=2)\n"
        "    return {c: len(labels) / (2 * counts[c]) for c in (0, 1)}\n"
        "    # END SOLUTION"
    ),
    'q05_input_side': (
        "def input_side(backbone, size):\n"
        "    \"\"\"Upsample only when the backbone cannot take the ROI as it is.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return max(size, mk.transfer.backbone_spec(backbone).min_size)\n"
        "    # END SOLUTION"
    ),
    'q05_gray_to_rgb': (
        "def gray_to_rgb(images):\n"
        "    \"\"\"Three identical channels: the backbone's RGB filters all see the film.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return np.concatenate([images] * 3, axis=-1)\n"
        "    # END SOLUTION"
    ),
    'q05_vgg_preprocess': (
        "def vgg_preprocess(rgb):\n"
        "    \"\"\"Caffe mode: BGR order, ImageNet mean removed, no scaling.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return rgb[..., ::-1] - np.array([103.939, 116.779, 123.68])\n"
        "    # END SOLUTION"
    ),
    'q05_inception_preprocess': (
        "def inception_preprocess(rgb):\n"
        "    \"\"\"TF mode: 0..255 -> -1..1.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    return rgb / 127.5 - 1.0\n"
        "    # END SOLUTION"
    ),
    'q05_trainable': (
        "trainable_guess = 0  # SOLUTION"
    ),
    'q05_freeze': (
        "def freeze_all_but_top(model, n):\n"
        "    \"\"\"Small data: keep ImageNet's early filters, adapt only the top.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    from keras import layers\n"
        "\n"
        "    backbone = mk.transfer.backbone_layers(model)\n"
        "    weighted = [layer for layer in backbone if layer.weights]\n"
        "    top = weighted[len(weighted) - n:] if n else []\n"
        "    for layer in backbone:\n"
        "        # batch norm stays frozen (inference mode): small batches would spoil ImageNet's statistics\n"
        "        layer.trainable = any(layer is t for t in top) and not isinstance(layer, layers.BatchNormalization)\n"
        "    model.get_layer(\"mk_head\").trainable = True\n"
        "    return model\n"
        "    # END SOLUTION"
    ),
    'q06_confusion_matrix': (
        "def confusion_matrix(labels, predicted):\n"
        "    \"\"\"Count the four outcomes; every metric below is built from them.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    labels, predicted = np.asarray(labels), np.asarray(predicted)\n"
        "    return np.array([[np.sum((labels == t) & (predicted == p)) for p in (0, 1)] for t in (0, 1)])\n"
        "    # END SOLUTION"
    ),
    'q06_metrics': (
        "def metrics_from_confusion(cm):\n"
        "    \"\"\"Eq. 8-11 of the paper from the four counts.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    (tn, fp), (fn, tp) = cm\n"
        "    precision, sensitivity = tp / (tp + fp), tp / (tp + fn)\n"
        "    return {\"accuracy\": (tp + tn) / (tp + tn + fp + fn), \"sensitivity\": sensitivity,\n"
        "            \"precision\": precision, \"f_score\": 2 * precision * sensitivity / (precision + sensitivity)}\n"
        "    # END SOLUTION"
    ),
    'q06_sensitivity_direction': (
        "sensitivity_guess = \"up\"  # SOLUTION"
    ),
    'q06_youden': (
        "def youden_threshold(labels, proba):\n"
        "    \"\"\"Best balance of sensitivity and specificity, on validation data.\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    labels, proba = np.asarray(labels), np.asarray(proba)\n"
        "    best, best_t = -2.0, 0.5\n"
        "    for t in np.unique(proba):\n"
        "        pred = proba >= t\n"
        "        j = pred[labels == 1].mean() + (~pred[labels == 0]).mean() - 1\n"
        "        if j > best:\n"
        "            best, best_t = j, t\n"
        "    return float(best_t)\n"
        "    # END SOLUTION"
    ),
    'q06_auc': (
        "def rank_auc(labels, proba):\n"
        "    \"\"\"AUC as a ranking probability (Mann-Whitney).\"\"\"\n"
        "    # BEGIN SOLUTION\n"
        "    labels, proba = np.asarray(labels), np.asarray(proba)\n"
        "    pos, neg = proba[labels == 1], proba[labels == 0]\n"
        "    diff = pos[:, None] - neg[None, :]\n"
        "    return float(((diff > 0) + 0.5 * (diff == 0)).mean())\n"
        "    # END SOLUTION"
    ),
}
