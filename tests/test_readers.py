"""Readers of SYSU-MM01, RegDB and LLCM on tiny fake trees in the real layouts: counts, protocols, junk rules, errors."""
import shutil
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fake_trees import make_sysu, make_regdb, make_llcm
from vireid_nb.data.datasets import load_dataset, Protocol
from vireid_nb.data.readers import LayoutError
from vireid_nb.data.loading import cache_images, ImageReadError
from vireid_nb.evaluate import evaluate_protocol


def _pairs(ds, idx):
    return set(zip(ds.pids[idx].tolist(), ds.cams[idx].tolist()))


# ---------------------------------------------------------------- SYSU-MM01
@pytest.fixture
def sysu(tmp_path):
    return make_sysu(tmp_path / 'SYSU-MM01')


def test_sysu_training_set_and_protocol_counts(sysu):
    ds = load_dataset('sysu', sysu, trials=3)
    assert ds.train_ids.tolist() == [1, 2, 3, 4, 5]                     # train ∪ val
    assert len(ds.train) == 5 * 6 * 3 and ds.labels.tolist()[:3] == [0, 0, 0]
    all_, indoor = ds.protocols
    assert (all_.name, indoor.name) == ('sysu/all', 'sysu/indoor')
    assert len(all_.query) == 4 * 2 * 3 and set(ds.cams[all_.query]) == {3, 6}   # every IR image of test ids
    gs = all_.galleries(ds.pids, ds.cams, seed=0)
    assert len(gs) == 3
    for g in gs:
        assert len(g) == 4 * 4 - 1 and len(_pairs(ds, g)) == len(g)   # one per (id, VIS camera); (9, cam4) is empty
        assert set(ds.cams[g]) == {1, 2, 4, 5}
    assert all(set(ds.cams[g]) == {1, 2} and len(g) == 8 for g in indoor.galleries(ds.pids, ds.cams, seed=0))
    assert len({tuple(g) for g in gs}) > 1                                # trials differ
    assert [g.tolist() for g in all_.galleries(ds.pids, ds.cams, seed=0)] == [g.tolist() for g in gs]  # and repeat
    assert [g.tolist() for g in all_.galleries(ds.pids, ds.cams, seed=1)] != [g.tolist() for g in gs]
    multi = load_dataset('sysu', sysu, trials=2, gallery_shots=10).protocols[0]
    assert len(multi.galleries(ds.pids, ds.cams)[0]) == 15 * 3            # multi-shot takes up to 10 per pair


def test_sysu_validation_ids_come_from_val_id_file(sysu):
    ds = load_dataset('sysu', sysu, val_ids=1)
    assert ds.info['val_ids'] == [5] and ds.train_ids.tolist() == [1, 2, 3, 4]
    assert [p.name for p in ds.val_protocols] == ['val/all']


def test_sysu_rand_perm_cam_mat(tmp_path):
    root = make_sysu(tmp_path / 'S', mat=True, missing=())
    from scipy.io import loadmat
    perm = loadmat(root / 'exp' / 'rand_perm_cam.mat')['rand_perm_cam']
    ds = load_dataset('sysu', root, trials=3)
    assert ds.info['gallery'] == 'rand_perm_cam.mat'
    for t, g in enumerate(ds.protocols[0].galleries(ds.pids, ds.cams)):
        got = {(int(ds.cams[i]), int(ds.pids[i])): int(ds.pixels[i][-8:-4]) for i in g}
        want = {(c, p): int(np.atleast_2d(perm[c - 1][0].squeeze()[p - 1])[t][0]) for c in (1, 2, 4, 5) for p in (6, 7, 8, 9)}
        assert got == want
    assert load_dataset('sysu', root, sysu_gallery='seeded').info['gallery'] == 'seeded'
    with pytest.raises(LayoutError, match='rand_perm_cam.mat'):
        load_dataset('sysu', make_sysu(tmp_path / 'S2'), sysu_gallery='mat')


def _designed_features(ds, same_place):
    """Feature = identity one-hot + 2 × place one-hot: a gallery image from the query's place beats a true match."""
    place = np.array([same_place.get(int(c), 100 + int(c)) for c in ds.cams])
    ids, places = np.unique(ds.pids), np.unique(place)
    f = torch.cat([F.one_hot(torch.as_tensor(np.searchsorted(ids, ds.pids)), len(ids)).float(),
                   2 * F.one_hot(torch.as_tensor(np.searchsorted(places, place)), len(places)).float()], 1)
    return dict(f=F.normalize(f, dim=1), row=torch.arange(len(ds)))


def test_sysu_junk_rule_cam3_ignores_cam2(sysu):
    ds = load_dataset('sysu', sysu, trials=2)
    ids = np.unique(ds.pids); test_ids = np.array([6, 7, 8, 9])
    code = np.searchsorted(ids, ds.pids)
    # every cam2 image is an exact look-alike of the *next* test identity; true matches elsewhere are close, not exact
    is_cam2 = ds.cams == 2
    nxt = dict(zip(test_ids, np.roll(test_ids, -1)))
    code[is_cam2] = np.searchsorted(ids, [nxt.get(p, p) for p in ds.pids[is_cam2]])
    f = F.one_hot(torch.as_tensor(code), len(ids)).float()
    vis_not_cam2 = torch.as_tensor((ds.modality == 0) & ~is_cam2)
    f = torch.cat([f, 0.3 * vis_not_cam2[:, None].float()], 1)
    feats = dict(f=F.normalize(f, dim=1), row=torch.arange(len(ds)))
    p = ds.protocols[0]
    for cam, want in ((3, 100.0), (6, 0.0)):
        q = p.query[ds.cams[p.query] == cam]
        r = evaluate_protocol(Protocol('t', q, p.gallery_pool, 'sysu', 1, 2), ds, feats)
        # cam3: the cam2 look-alikes are junk, the true matches come first → 100;
        # cam6: nothing is junk, a look-alike of another identity comes first → 0
        assert r['rank1'] == want, (cam, r['rank1'])


# ---------------------------------------------------------------- RegDB
def test_regdb_trial_counts_and_both_directions(tmp_path):
    root = make_regdb(tmp_path / 'RegDB')
    ds = load_dataset('regdb', root, trial=1)
    assert len(ds.train_ids) == 4 and len(ds.train) == 4 * 10 * 2
    v2i, i2v = ds.protocols
    assert (v2i.name, i2v.name) == ('regdb/vis2ir', 'regdb/ir2vis')
    assert set(ds.modality[v2i.query]) == {0} and set(ds.modality[v2i.gallery_pool]) == {1}
    assert set(ds.modality[i2v.query]) == {1} and set(ds.modality[i2v.gallery_pool]) == {0}
    assert len(v2i.query) == len(v2i.gallery_pool) == 40 and v2i.trials == 1 and v2i.shots is None
    assert v2i.galleries(ds.pids, ds.cams)[0].tolist() == v2i.gallery_pool.tolist()   # the whole test list
    assert set(ds.pids[v2i.query]).isdisjoint(ds.train_ids)
    assert load_dataset('regdb', root, trial=2).train_ids.tolist() != ds.train_ids.tolist()
    feats = _designed_features(ds, {})
    assert evaluate_protocol(v2i, ds, feats)['rank1'] == 100.0   # no junk rule: the same id wins


# ---------------------------------------------------------------- LLCM
def test_llcm_counts_directions_and_junk(tmp_path):
    root = make_llcm(tmp_path / 'LLCM')
    ds = load_dataset('llcm', root, trials=3)
    assert ds.train_ids.tolist() == [1, 2, 3, 4] and len(ds.train) == 4 * 3 * 2 + 4 * 2 * 2
    i2v, v2i = ds.protocols
    assert (i2v.name, v2i.name) == ('llcm/ir2vis', 'llcm/vis2ir')
    # vis2ir means visible queries against an infrared gallery
    assert set(ds.modality[v2i.query]) == {0} and set(ds.modality[v2i.gallery_pool]) == {1}
    assert len(i2v.query) == 3 * 2 * 2 and len(v2i.query) == 3 * 3 * 2
    assert all(len(g) == 9 for g in i2v.galleries(ds.pids, ds.cams)) and all(len(g) == 6 for g in v2i.galleries(ds.pids, ds.cams))
    # same id and same camera is junk: with camera looks dominating, the exact same-camera match is removed and
    # another identity from the query's camera comes first
    feats = _designed_features(ds, {})
    assert evaluate_protocol(i2v, ds, feats)['rank1'] == 0.0
    assert evaluate_protocol(Protocol('t', i2v.query, i2v.gallery_pool, 'regdb', 1, 3), ds, feats)['rank1'] == 100.0


# ---------------------------------------------------------------- broken trees
def _break(root, how):
    if how == 'rm': shutil.rmtree(root) if root.is_dir() else root.unlink()
    else: root.write_text(how)


@pytest.mark.parametrize('target, how, message', [
    ('cam5', 'rm', 'camera folder cam5 not found'),
    ('exp/test_id.txt', 'rm', 'id file exp/test_id.txt not found'),
    ('exp/train_id.txt', '1,2,x', 'comma-separated integer ids'),
    ('cam3/0002', 'rm', 'no IR image'),
])
def test_sysu_broken_trees(tmp_path, target, how, message):
    root = make_sysu(tmp_path / 'S')
    _break(root / target, how)
    if target == 'cam3/0002': shutil.rmtree(root / 'cam6' / '0002')
    with pytest.raises(LayoutError, match=message) as e:
        load_dataset('sysu', root)
    assert 'expected SYSU-MM01 layout' in str(e.value) or 'comma-separated' in str(e.value)


@pytest.mark.parametrize('target, how, message', [
    ('idx/test_thermal_1.txt', 'rm', 'idx/test_thermal_1.txt not found'),
    ('Thermal/1', 'rm', 'do not exist'),
    ('idx/train_visible_1.txt', 'Visible/1/x.bmp\n', 'expected "<image path> <label>"'),
])
def test_regdb_broken_trees(tmp_path, target, how, message):
    root = make_regdb(tmp_path / 'R')
    _break(root / target, how)
    with pytest.raises(LayoutError, match=message) as e:
        load_dataset('regdb', root, trial=1)
    assert 'expected RegDB layout' in str(e.value)


def test_regdb_labels_must_match_folders(tmp_path):
    root = make_regdb(tmp_path / 'R')
    f = root / 'idx' / 'train_visible_1.txt'
    lines = f.read_text().splitlines(); lines[0] = lines[0].rsplit(' ', 1)[0] + ' 3'
    f.write_text('\n'.join(lines))
    with pytest.raises(LayoutError, match='one to one'):
        load_dataset('regdb', root, trial=1)


@pytest.mark.parametrize('target, how, message', [
    ('idx/test_id.txt', 'rm', 'idx/test_id.txt not found'),
    ('nir/0002', 'rm', 'do not exist'),
    ('test_vis', 'rm', 'test folder test_vis not found'),
])
def test_llcm_broken_trees(tmp_path, target, how, message):
    root = make_llcm(tmp_path / 'L')
    _break(root / target, how)
    with pytest.raises(LayoutError, match=message) as e:
        load_dataset('llcm', root)
    assert 'expected LLCM layout' in str(e.value)


def test_missing_root_names_the_layout(tmp_path):
    for name in ('sysu', 'regdb', 'llcm'):
        with pytest.raises(LayoutError, match='folder not found'):
            load_dataset(name, tmp_path / 'nowhere')


def test_corrupt_image_stops_the_cache_and_leaves_nothing(tmp_path):
    root = make_sysu(tmp_path / 'S')
    bad = root / 'cam1' / '0001' / '0002.jpg'
    bad.write_bytes(b'not a jpeg')
    ds = load_dataset('sysu', root)
    cache = tmp_path / 'cache'
    with pytest.raises(ImageReadError, match='0001/0002.jpg'):
        cache_images(ds, (32, 16), cache, verbose=False)
    assert list(cache.iterdir()) == []
    bad.unlink()
    with pytest.raises(ImageReadError, match='image file is missing'):
        cache_images(ds, (32, 16), cache, verbose=False)
