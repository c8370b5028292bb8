"""Table-1 operations, offline inflation and the online Keras pipeline."""
from __future__ import annotations

import numpy as np
import pytest

from mammokit import augment as A
from mammokit import inflation, online
from mammokit.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def roi() -> np.ndarray:
    """A 32×32 uint8 ROI with a bright off-centre blob (asymmetric, so flips/rotations show)."""
    rr, cc = np.mgrid[:32, :32]
    blob = 200 * np.exp(-((rr - 10) ** 2 + (cc - 20) ** 2) / 30.0)
    noise = np.random.default_rng(0).normal(0, 5, (32, 32))
    return np.clip(40 + blob + noise, 0, 255).astype(np.uint8)


def test_table1_has_exactly_the_papers_parameter_sets():
    values = {op.key: op.values for op in A.TABLE1}
    assert values == {
        "sharpen": (0.5, 1, 1.5, 2), "emboss": (0.5, 1, 1.5, 2), "gaussian_blur": (0.25, 0.5, 1, 2),
        "rotate": (45, 90, 135, 180), "edge_detect": (0.25, 0.5, 0.75, 1.0),
        "skew": ("forward", "backward", "left", "right"), "flip": ("top", "bottom", "left", "right"),
        "shear": ("x", "y"),
    }
    assert len(A.variants(distinct=False)) == 30 and len(A.variants()) == 28
    assert len(A.table1_frame()) == 8


@pytest.mark.parametrize("key,value", A.variants(distinct=False))
def test_every_variant_keeps_shape_and_dtype_and_is_pure(roi, key, value):
    before = roi.copy()
    out = A.apply(roi, key, value)
    assert out.shape == roi.shape and out.dtype == np.uint8
    assert np.array_equal(roi, before), "an operation modified its input"


def test_geometry_is_what_the_names_say(roi):
    assert np.array_equal(A.rotate(roi, 90), np.rot90(roi))
    assert np.array_equal(A.rotate(roi, 180), roi[::-1, ::-1])
    assert np.array_equal(A.flip(roi, "top"), roi[::-1]) and np.array_equal(A.flip(roi, "bottom"), roi[::-1])
    assert np.array_equal(A.flip(roi, "left"), roi[:, ::-1])
    r45 = A.rotate(roi, 45)
    assert abs(int(r45[16, 16]) - int(roi[16, 16])) < 30  # the centre stays put
    # the blob (row 10, col 20) moves: after a 45° counter-clockwise turn it is up and left
    peak = np.unravel_index(np.argmax(A.gaussian_blur(r45, 1)), r45.shape)
    assert peak[0] < 12 and peak[1] < 20
    # shear along x moves top rows and bottom rows in opposite directions, the centre row not
    sx = A.shear(roi, "x")
    assert np.array_equal(sx[15], roi[15]) or np.abs(sx[15].astype(int) - roi[15]).mean() < 3
    assert np.abs(sx[2].astype(int) - roi[2]).mean() > 3


def test_skew_stretches_the_named_side(roi):
    grad = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1))  # brightness grows left → right
    left = A.skew(grad, "left")
    # the left part is magnified: the bright right edge is unchanged, the dark left edge too,
    # but middle columns show darker (left-side) content than before
    assert left[:, 16].mean() < grad[:, 16].mean()
    assert not np.array_equal(A.skew(roi, "forward"), A.skew(roi, "backward"))


def test_filters_behave(roi):
    assert A.gaussian_blur(roi, 2).std() < roi.std()
    assert A.sharpen(roi, 1).std() > roi.std()  # lightness 1 keeps brightness, boosts detail
    assert A.sharpen(roi, 2).mean() > A.sharpen(roi, 0.5).mean()  # lightness sets brightness
    assert abs(A.emboss(roi, 1).mean() - roi.mean()) < 10  # emboss weights sum to 1
    assert A.edge_detect(roi, 1.0).mean() < A.edge_detect(roi, 0.25).mean() < roi.mean() + 5
    flat = np.full((8, 8), 100, np.uint8)
    assert np.array_equal(A.sharpen(flat, 1), flat) and np.array_equal(A.emboss(flat, 2), flat)
    assert (A.edge_detect(flat, 0.5) == 50).all()  # the Laplacian sums to 0: flat areas darken by 1 - alpha


@pytest.mark.parametrize("call", [lambda r: A.sharpen(r.astype(float), 1), lambda r: A.rotate(r[None], 45)])
def test_a_wrong_roi_is_a_data_error(roi, call):
    with pytest.raises(DataError, match="2-D uint8 ROI"):
        call(roi)


@pytest.mark.parametrize("call", [
    lambda r: A.skew(r, "up"), lambda r: A.flip(r, "diagonal"), lambda r: A.shear(r, "z"),
    lambda r: A.gaussian_blur(r, 0), lambda r: A.apply(r, "cutout", 1),
])
def test_a_wrong_option_is_a_config_error(roi, call):
    with pytest.raises(ConfigError):
        call(roi)


def test_inflate_factor_provenance_and_seed(roi):
    images = np.stack([roi, A.flip(roi, "left"), A.rotate(roi, 90)])
    labels = np.array([0, 1, 1])
    out = inflation.inflate(images, labels, factor=8, seed=1)
    assert out.images.shape == (24, 32, 32) and out.images.dtype == np.uint8
    assert np.bincount(out.source).tolist() == [8, 8, 8]
    assert np.array_equal(out.labels, labels[out.source])
    originals = out.variant == "original"
    assert originals.sum() == 3 and np.array_equal(out.images[originals], images)
    for i in range(3):  # the 7 extra copies of an ROI are 7 different variants
        assert len(set(out.variant[(out.source == i) & ~originals])) == 7
    again = inflation.inflate(images, labels, factor=8, seed=1)
    other = inflation.inflate(images, labels, factor=8, seed=2)
    assert np.array_equal(out.images, again.images)
    assert list(out.variant) != list(other.variant)


def test_inflate_papers_counts_and_balancing():
    images = np.zeros((696, 4, 4), np.uint8)  # 162 benign + 534 malignant ROIs, as in the paper
    labels = np.r_[np.zeros(162, int), np.ones(534, int)]
    plain = inflation.inflate(images, labels, factor=8)
    assert np.bincount(plain.labels).tolist() == [1296, 4272]  # the paper's 1296 / 4272
    balanced = inflation.inflate(images, labels, factor=8, balance=True)
    assert np.bincount(balanced.labels).tolist() == [2784, 2784]  # 8 × 696 in all, half each
    assert np.bincount(balanced.source[balanced.labels == 0]).max() == 18  # ~17.2 copies per benign ROI
    small = inflation.inflate(images[:20], np.r_[np.zeros(5, int), np.ones(15, int)], factor=4, balance=True)
    assert np.bincount(small.labels).tolist() == [40, 40]
    skewed = inflation.inflate(images[:20], np.r_[np.zeros(2, int), np.ones(18, int)], factor=1, balance=True)
    assert np.bincount(skewed.labels).tolist() == [10, 18]  # the majority never drops below its originals


def test_inflate_rejects_bad_input():
    with pytest.raises(ConfigError, match="factor"):
        inflation.inflate(np.zeros((2, 8, 8), np.uint8), [0, 1], factor=0)
    with pytest.raises(DataError, match="uint8"):
        inflation.inflate(np.zeros((2, 8, 8)), [0, 1])


def test_online_pipeline_runs_in_tf_data_and_is_identity_at_inference(roi):
    import tensorflow as tf

    pipe = online.online_pipeline(seed=0)
    names = [type(layer).__name__ for layer in pipe.layers]
    for expected in ("RandomFlip", "RandomRotation", "RandomShear", "RandomGaussianBlur", "RandomContrast"):
        assert expected in names
    batch = np.stack([roi] * 8)[..., None].astype("float32")
    assert np.allclose(np.asarray(pipe(batch, training=False)), batch)
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(4).map(lambda x: pipe(x, training=True))
    out = np.concatenate([np.asarray(b) for b in ds])
    assert out.shape == batch.shape and out.min() >= 0 and out.max() <= 255
    assert not np.allclose(out, batch)  # something changed
    assert not np.allclose(out[0], out[1])  # draws differ between images


def test_online_pipeline_feeds_make_dataset(roi):
    from mammokit import datasets

    images = np.stack([roi] * 6)
    ds = datasets.make_dataset(images, np.array([0, 1] * 3), batch_size=3, training=True,
                               augment=online.online_pipeline(seed=3))
    x, y = next(iter(ds))
    assert tuple(x.shape) == (3, 32, 32, 1) and float(np.max(x)) <= 1.0


def test_dihedral_pipeline_draws_exactly_the_eight_symmetries_per_image():
    """Each draw is one of the square's 8 rotations/flips of THAT image (channels moved together),
    all 8 turn up, and inference leaves the batch alone; TrainConfig takes it by name."""
    from mammokit.inflation import dihedral
    from mammokit.train import TrainConfig, _augment_pipeline

    rng = np.random.default_rng(0)
    batch = rng.integers(0, 255, (4, 6, 6, 3)).astype("float32")
    pipe = online.dihedral_pipeline(seed=0)
    views = [{v.tobytes() for v in dihedral(batch[i:i + 1])} for i in range(4)]
    seen = set()
    for _ in range(40):
        out = np.asarray(pipe(batch, training=True))
        assert all(out[i:i + 1].tobytes() in views[i] for i in range(4))
        seen.add(out[:1].tobytes())
    assert seen == views[0]
    assert np.array_equal(np.asarray(pipe(batch, training=False)), batch)
    assert type(_augment_pipeline(TrainConfig(augment="dihedral").augment, 0)).__name__ == "RandomDihedral"
    # Table 1's kernel layer is 1-channel: fit drops it for scales-as-channels images, keeps it otherwise
    kinds = {c: [type(layer).__name__ for layer in _augment_pipeline(True, 0, c).layers] for c in (1, 3)}
    assert "RandomTable1Kernel" in kinds[1] and "RandomTable1Kernel" not in kinds[3]
    with pytest.raises(ConfigError, match="dihedral"):
        TrainConfig(augment="flips")


def test_emboss_edge_kernel_layer(roi):
    layer = online._kernel_layer_class()(rate=1.0, seed=0)
    batch = np.stack([roi] * 4)[..., None].astype("float32")
    out = np.asarray(layer(batch, training=True))
    assert out.shape == batch.shape and 0 <= out.min() and out.max() <= 255
    assert all(not np.allclose(out[i], batch[i]) for i in range(4))  # rate 1: every image filtered
    assert np.array_equal(np.asarray(layer(batch, training=False)), batch)
    flat = np.full((2, 8, 8, 1), 100, "float32")
    never = online._kernel_layer_class()(rate=0.0, seed=0)
    assert np.array_equal(np.asarray(never(flat, training=True)), flat)


def test_kernel_layer_leaves_flat_borders_alone():
    """Reflect padding: a flat image stays flat under emboss, no dark or bright rim at the edge."""
    flat = np.full((4, 12, 12, 1), 120, "float32")
    layer = online._kernel_layer_class()(rate=1.0, seed=1)
    out = np.asarray(layer(flat, training=True))
    # emboss keeps flat areas, the Laplacian blend darkens them uniformly: each image is constant
    assert np.allclose(out.std(axis=(1, 2, 3)), 0, atol=1e-4)
