"""Lesion vs normal-tissue windows: negatives clear of lesions, mm scale, patient groups, cache,
preprocessing; the detector recipes' interface; the sliding-window lesion map."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammokit import patches
from mammokit.errors import ConfigError, DataError
from mammokit.preprocess import PreprocessConfig
from mammokit.roi import RoiDataset

WINDOW_MM = 12.8  # 64 px of a 256-px phantom at MIAS' 0.2 mm per pixel


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    from mammokit.data import load_catalog, synthetic

    folder = synthetic.write_phantoms(tmp_path_factory.mktemp("ph") / "set", n_patients=8, size=256, seed=3)
    return load_catalog(folder)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _build(catalog, cfg=None, **options):
    return patches.build_patch_dataset(catalog, cfg, **{"size": 32, "window_mm": WINDOW_MM, "progress": False,
                                                        **options})


def test_windows_are_labelled_grouped_and_in_mm(phantoms, cache):
    data = _build(phantoms, jitter=2, negatives=5)
    lesions = phantoms[phantoms["abnormality"] != "NORM"]
    assert isinstance(data, RoiDataset) and data.images.dtype == np.uint8 and data.images.shape[1:] == (32, 32)
    assert (data.labels == 1).sum() == 3 * len(lesions)  # each lesion centred + 2 jittered copies
    assert (data.labels == 0).sum() == 5 * phantoms["image_id"].nunique()
    assert data.groups.tolist() == data.table["patient_id"].tolist()
    assert set(data.groups) == set(phantoms["patient_id"])
    t = data.table
    assert set(t.loc[t["label"] == 0, "kind"]) == {patches.NORMAL_FILM, patches.ABNORMAL_FILM}
    assert set(t.loc[t["label"] == 1, "kind"]) <= set(lesions["abnormality"])
    assert (t["window_px"] == 64).all()
    centred = t[(t["label"] == 1) & (t["copy"] == 0)]
    np.testing.assert_allclose(centred[["row", "col"]].to_numpy(), lesions[["row", "col"]].to_numpy())
    moved = t[(t["label"] == 1) & (t["copy"] > 0)]
    assert (np.abs(moved["row"] - moved["lesion_row"]) <= 16).all() and (moved["row"] != moved["lesion_row"]).all()
    # the same physical window on a film with half the pixel pitch spans twice the pixels
    assert patches.window_pixels(WINDOW_MM, 0.1) == 2 * patches.window_pixels(WINDOW_MM) == 128
    with pytest.raises(ConfigError, match="window_mm"):
        patches.window_pixels(0.5)


def test_negatives_never_touch_a_lesion(phantoms, cache):
    """Against the phantoms' true lesion masks, not only the annotated circles."""
    data = _build(phantoms, negatives=40, clearance_mm=2.0)
    half = 32
    truth = {r.image_id: np.load(r.truth)["lesion_mask"] for r in phantoms.itertuples() if r.truth}
    negatives = data.table[data.table["label"] == 0]
    assert len(negatives) > 200
    for r in negatives.itertuples():
        mask = truth[r.image_id]
        top, left = int(round(r.row)) - half, int(round(r.col)) - half
        window = mask[max(top, 0):top + 2 * half, max(left, 0):left + 2 * half]
        assert not window.any(), f"negative window of {r.image_id} at ({r.row}, {r.col}) holds a lesion"
    assert (negatives["tissue"] >= 0.5).all()
    for image_id, part in negatives.groupby("image_id"):  # and clear of the annotated circles + 2 mm
        film = phantoms[(phantoms["image_id"] == image_id) & (phantoms["abnormality"] != "NORM")]
        circles = film[["row", "col", "radius"]].to_numpy(float) + [0, 0, 10]
        assert patches.clear_of_lesions(part["row"].to_numpy(), part["col"].to_numpy(), half, circles).all()


def test_the_cache_is_reused_and_keyed_by_preprocessing(phantoms, cache, capsys):
    data = _build(phantoms)
    assert len(list((cache / "patches").iterdir())) == 1
    again = _build(phantoms)
    assert np.array_equal(again.images, data.images)
    pd.testing.assert_frame_equal(again.table, data.table)
    assert len(list((cache / "patches").iterdir())) == 1
    (next((cache / "patches").iterdir()) / "images.npy").write_bytes(b"damaged")
    assert np.array_equal(_build(phantoms).images, data.images)  # a damaged entry is rebuilt
    said = capsys.readouterr().err
    assert "window cache" in said and "damaged" in said and "rebuilding" in said
    other = _build(phantoms, PreprocessConfig(clahe_clip=0.0))  # notebook 02's choice: no CLAHE
    assert len(list((cache / "patches").iterdir())) == 2
    pd.testing.assert_frame_equal(other.table[["row", "col"]].iloc[:len(phantoms)],
                                  data.table[["row", "col"]].iloc[:len(phantoms)])
    assert not np.array_equal(other.images, data.images), "the preprocessing given must shape the windows"
    fresh = _build(phantoms, cache=False, seed=1)
    assert not np.array_equal(fresh.table["row"], data.table["row"])  # another seed, other draws
    assert len(list((cache / "patches").iterdir())) == 2


def test_windows_follow_the_preprocessing_exactly(phantoms, cache):
    """A window is the fixed-size crop of the preprocessed film, flipped with it, resized."""
    import cv2

    from mammokit.data.images import read_image
    from mammokit.preprocess import preprocess
    from mammokit.roi import crop_around

    cfg = PreprocessConfig(kernel=3, otsu_offset=10)
    data = _build(phantoms, cfg, jitter=0, negatives=2)
    for i in (0, len(data) - 1):
        r = data.table.iloc[i]
        result = preprocess(read_image(r["path"]), cfg)
        crop = crop_around(result.cleaned, r["row"], r["col"], 64)
        want = cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA)
        assert np.array_equal(data.images[i], want[:, ::-1] if result.flipped else want)


def test_bad_inputs_are_named(phantoms, cache):
    with pytest.raises(ConfigError, match="PreprocessConfig"):
        patches.build_patch_dataset(phantoms, {"kernel": 3})
    with pytest.raises(ConfigError, match="negatives"):
        _build(phantoms, negatives=-1)
    with pytest.raises(DataError, match="radius"):
        _build(phantoms.drop(columns="radius"))


# --- the detector recipes ---------------------------------------------------------------------------

def test_platt_scaling_recovers_a_logistic_link():
    from mammokit.detector import _calibrated, platt

    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.99, 5000)
    true = 1 / (1 + np.exp(-(2.0 * np.log(raw / (1 - raw)) - 1.0)))
    slope, intercept = platt(rng.uniform(size=raw.size) < true, raw)
    assert slope == pytest.approx(2.0, abs=0.25) and intercept == pytest.approx(-1.0, abs=0.25)
    assert np.array_equal(np.argsort(_calibrated(raw, (slope, intercept))), np.argsort(raw))  # ranks kept


def test_intensity_baseline_gives_one_probability_per_window(phantoms, cache):
    from mammokit import recipes

    data = _build(phantoms)
    model = recipes.intensity_baseline(data, seed=0)
    p = model.predict_proba(data)
    assert p.shape == (len(data),) and ((p >= 0) & (p <= 1)).all() and 0 <= model.threshold <= 1
    with pytest.raises(ConfigError, match="RoiDataset"):
        recipes.intensity_baseline(data.images)


@pytest.mark.slow
def test_a_tiny_detector_trains_on_phantoms_and_maps_a_film(phantoms, cache):
    from mammokit import recipes

    data = _build(phantoms)
    detector = recipes.lesion_detector(data, profile="smoke", seed=0)
    p = detector.predict_proba(data.take(np.arange(10)))
    assert p.shape == (10,) and ((p >= 0) & (p <= 1)).all() and 0 <= detector.threshold <= 1
    assert detector.size == 32 and detector.window_mm == WINDOW_MM
    with pytest.raises(ConfigError, match="32 px"):
        detector.predict_proba(_build(phantoms, size=16))
    with pytest.raises(ConfigError, match="mm windows"):
        detector.predict_proba(_build(phantoms, window_mm=20.0))
    # the lesion map: one call over a whole film, in the film's coordinates, NaN off the breast
    from mammokit.data.images import read_image
    from mammokit.plots import lesion_map_figure

    film = read_image(phantoms["path"].iloc[0])
    prob = patches.lesion_map(detector, film, stride_mm=1.6)
    inside = ~np.isnan(prob)
    assert prob.shape == film.shape and inside.mean() > 0.2
    assert (prob[inside] >= 0).all() and (prob[inside] <= 1).all()
    fig = lesion_map_figure(film, prob, phantoms.iloc[:1])
    assert len(fig.axes) == 3


def test_lesion_map_scores_each_window_as_the_dataset_cuts_it(phantoms, cache):
    """A stand-in detector whose probability is a window's mean grey level: the map at a grid
    centre equals that window's score, the windows are cut like build_patch_dataset's, and all
    windows go to ONE predict call."""
    from mammokit.data.images import read_image
    from mammokit.preprocess import preprocess

    class Mean:
        size, window_mm, calls = 32, WINDOW_MM, 0

        def predict_proba(self, windows):
            Mean.calls += 1
            assert windows.images.shape[1:] == (32, 32) and np.allclose(windows.table["window_mm"], WINDOW_MM)
            return windows.images.reshape(len(windows), -1).mean(axis=1) / 255

    cfg = PreprocessConfig(kernel=3)
    film = read_image(phantoms["path"].iloc[1])
    result = preprocess(film, cfg)
    prob = patches.lesion_map(Mean(), film, cfg, stride_mm=1.6)  # stride 8 px: grid centres at 4, 12, ...
    assert Mean.calls == 1 and prob.shape == film.shape
    r, c = np.argwhere(result.mask[4::8, 4::8])[len(np.argwhere(result.mask[4::8, 4::8])) // 2] * 8 + 4
    window = patches.cut_windows(result, [r], [c], 64, 32)
    assert prob[r, c] == pytest.approx(window.mean() / 255, abs=0.02)
    assert np.isnan(prob[~result.mask]).all()
    with pytest.raises(ConfigError, match="stride_mm"):
        patches.lesion_map(Mean(), film, stride_mm=50.0)
    with pytest.raises(ConfigError, match="detector"):
        patches.lesion_map(object(), film)


def test_scales_stack_as_channels_around_one_centre(phantoms, cache):
    data = _build(phantoms, negatives=2, jitter=0)
    multi = _build(phantoms, negatives=2, jitter=0, scales=(0.5, 1, 2))
    assert multi.images.shape == (len(data), 32, 32, 3) and (multi.table["scales"] == "0.5,1,2").all()
    assert np.array_equal(multi.images[..., 1], data.images)  # the middle channel is the plain window
    pd.testing.assert_frame_equal(multi.table[["row", "col"]], data.table[["row", "col"]])
    again = _build(phantoms, negatives=2, jitter=0, scales=(0.5, 1, 2))  # read back from the cache
    assert np.array_equal(again.images, multi.images)
    with pytest.raises(ConfigError, match="scales"):
        _build(phantoms, scales=(1, 2))


@pytest.mark.slow
def test_a_multiscale_detector_with_decay_maps_a_film(phantoms, cache):
    from mammokit import recipes
    from mammokit.data.images import read_image

    data = _build(phantoms, scales=(0.5, 1, 2))
    detector = recipes.lesion_detector(data, profile="smoke", seed=0, decay=True, tta=True, calibrate=True)
    assert detector.calibration is not None and np.isfinite(detector.calibration).all()
    assert detector.scales == (0.5, 1.0, 2.0) and detector.members[0].input_shape[-1] == 3
    p = detector.predict_proba(data.take(np.arange(5)))
    assert p.shape == (5,) and ((p >= 0) & (p <= 1)).all()
    with pytest.raises(ConfigError, match="scales"):
        detector.predict_proba(_build(phantoms).take(np.arange(5)))
    film = read_image(phantoms["path"].iloc[2])
    prob = patches.lesion_map(detector, film, stride_mm=1.6)
    assert prob.shape == film.shape and np.nanmax(prob) <= 1 and np.nanmin(prob) >= 0


@pytest.mark.slow
def test_a_bagged_ensemble_trains_each_net_on_its_own_carve(phantoms, cache):
    """bagged=True: member m carves its validation patients with seed + m (so the nets, together,
    train on every patient), is Platt-scaled on them, and the detector averages the calibrated nets."""
    from mammokit import recipes
    from mammokit.detector import LesionDetector
    from mammokit.splits import carve_validation

    data = _build(phantoms)
    vals = [set(carve_validation(data, seed=s)[1].groups) for s in (3, 4)]
    assert vals[0] != vals[1]  # the premise: another seed, other validation patients
    detector = recipes.lesion_detector(data, profile="smoke", seed=3, members=2, bagged=True, calibrate=True)
    assert isinstance(detector.calibration, list) and len(detector.calibration) == 2
    assert np.isfinite(detector.calibration).all()
    some = data.take(np.arange(8))
    each = [LesionDetector([net], detector.size, detector.window_mm, detector.tta, calibration=c,
                           scales=detector.scales).predict_proba(some)
            for net, c in zip(detector.members, detector.calibration)]
    assert np.allclose(detector.predict_proba(some), np.mean(each, axis=0))
    single = recipes.lesion_detector(data, profile="smoke", seed=3, members=1, bagged=True, calibrate=True)
    assert isinstance(single.calibration, tuple)  # one net: nothing to bag
    with pytest.raises(ConfigError, match="holdout"):
        recipes.lesion_detector(data, profile="smoke", members=2, holdout=0.9)
    with pytest.raises(ConfigError, match="bagged"):  # one carve is always a quarter: not silently ignored
        recipes.lesion_detector(data, profile="smoke", members=1, holdout=0.2)
    assert 0 <= detector.threshold <= 1
    detector.calibration = detector.calibration[:1]
    with pytest.raises(ConfigError, match="2 nets but 1 calibrations"):
        detector.predict_proba(some)


def test_kind_counts_names_each_label_and_kind():
    from mammokit.roi import RoiDataset

    table = pd.DataFrame({"label": [1, 1, 0, 0, 0], "kind": ["CALC", "SPIC", "normal film", "abnormal film", "normal film"],
                          "patient_id": ["a", "b", "a", "c", "d"]})
    data = RoiDataset(np.zeros((5, 8, 8), np.uint8), table, table["label"].to_numpy(), table["patient_id"].to_numpy())
    assert patches.kind_counts(data) == ("5 windows of 4 patients: lesion 2 (CALC 1, SPIC 1), "
                                         "normal tissue 3 (abnormal film 1, normal film 2)")
