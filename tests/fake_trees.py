"""Tiny fake dataset trees in exactly the real layouts (real folder and file names, id and index files).

Images are small solid-colour files; the content does not matter to the readers, only the layout does.
"""
from pathlib import Path
import numpy as np
from PIL import Image


def _img(path: Path, seed: int, size=(16, 32), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, fmt)


def make_sysu(root, train=(1, 2, 3, 4), val=(5,), test=(6, 7, 8, 9), per_cam=3, missing=((9, 4),), mat=False, trials=10):
    """cam1…cam6/<pid:04d>/<n:04d>.jpg, exp/{train,val,test}_id.txt; (pid, cam) pairs in `missing` get no images."""
    root = Path(root)
    k = 0
    for pid in (*train, *val, *test):
        for cam in range(1, 7):
            if (pid, cam) in missing: continue
            for n in range(1, per_cam + 1):
                _img(root / f'cam{cam}' / f'{pid:04d}' / f'{n:04d}.jpg', k); k += 1
    (root / 'exp').mkdir(parents=True, exist_ok=True)
    for name, ids in (('train', train), ('val', val), ('test', test)):
        (root / 'exp' / f'{name}_id.txt').write_text(','.join(str(i) for i in ids))
    if mat:
        from scipy.io import savemat
        rng = np.random.default_rng(0)
        n_ids = max((*train, *val, *test))
        cells = np.empty((6, 1), dtype=object)
        for cam in range(1, 7):
            per_id = np.empty((n_ids, 1), dtype=object)
            for pid in range(1, n_ids + 1):
                per_id[pid - 1, 0] = np.stack([rng.permutation(per_cam) + 1 for _ in range(trials)]).astype(np.float64)
            cells[cam - 1, 0] = per_id
        savemat(root / 'exp' / 'rand_perm_cam.mat', {'rand_perm_cam': cells})
    return root


def make_regdb(root, n_ids=8, per=10, trials=2, seed=0):
    """Visible/<pid>/<name>.bmp, Thermal/<pid>/<name>.bmp, idx/{train,test}_{visible,thermal}_<t>.txt."""
    root = Path(root)
    names = {}
    for pid in range(1, n_ids + 1):
        for kind, tag in (('Visible', 'v'), ('Thermal', 't')):
            for n in range(per):
                rel = f'{kind}/{pid}/{"female" if pid % 2 else "male"}_back_{tag}_{pid * 100 + n:05d}_{pid}.bmp'
                _img(root / rel, pid * 1000 + n + (500 if tag == 't' else 0), fmt='BMP')
                names.setdefault((pid, kind), []).append(rel)
    (root / 'idx').mkdir(parents=True, exist_ok=True)
    for t in range(1, trials + 1):
        ids = np.random.default_rng([seed, t]).permutation(np.arange(1, n_ids + 1))
        split = dict(train=sorted(ids[: n_ids // 2]), test=sorted(ids[n_ids // 2:]))
        for s, sids in split.items():
            for kind in ('Visible', 'Thermal'):
                lines = [f'{rel} {lab}' for lab, pid in enumerate(sids) for rel in names[(pid, kind)]]
                (root / 'idx' / f'{s}_{kind.lower()}_{t}.txt').write_text('\n'.join(lines) + '\n')
    return root


def make_llcm(root, train=(1, 2, 3, 4), test=(5, 6, 7), vis_cams=(1, 2, 3), nir_cams=(1, 2), per_cam=2):
    """idx/train_vis.txt, idx/train_nir.txt, idx/test_id.txt, test_vis/cam<k>/<pid:04d>/…, test_nir/cam<k>/<pid:04d>/…"""
    root = Path(root)
    (root / 'idx').mkdir(parents=True, exist_ok=True)
    k = 0
    for kind, cams in (('vis', vis_cams), ('nir', nir_cams)):
        lines = []
        for lab, pid in enumerate(train):
            for cam in cams:
                for n in range(per_cam):
                    rel = f'{kind}/{pid:04d}/{pid:04d}_c{cam:02d}_s{185535 + n:06d}_f{7010 + n}_{kind}.jpg'
                    _img(root / rel, k); k += 1
                    lines.append(f'{rel} {lab}')
        (root / 'idx' / f'train_{kind}.txt').write_text('\n'.join(lines) + '\n')
        for pid in test:
            for cam in cams:
                for n in range(per_cam):
                    _img(root / f'test_{kind}' / f'cam{cam}' / f'{pid:04d}' / f'{pid:04d}_c{cam:02d}_s{200000 + n:06d}_f{100 + n}_{kind}.jpg', k); k += 1
    (root / 'idx' / 'test_id.txt').write_text(','.join(str(i) for i in test))
    return root


def small_synth_spec(seed=0, n_train=20, n_test=20, per_modality=3):
    """A synthetic spec of `n_train` training identities with exactly `per_modality` visible and infrared images each
    (and `n_test` test identities with all their images): the size of a user's first small dataset."""
    from dataclasses import replace
    from vireid_nb.data import synth
    s = synth.synth_spec('demo', seed=seed, img_size=(64, 32))
    rng = np.random.default_rng([seed, 99])
    train_ids, test_ids = s.train_ids[:n_train], s.test_ids[:n_test]
    keep = [rng.choice(np.flatnonzero((s.pids == pid) & (s.modality == m)), per_modality, replace=False)
            for pid in train_ids for m in (0, 1)]
    keep = np.sort(np.r_[np.concatenate(keep), np.flatnonzero(np.isin(s.pids, test_ids))]).astype(np.int64)
    return replace(s, pids=s.pids[keep], cams=s.cams[keep], modality=s.modality[keep], num=s.num[keep],
                   id_row=s.id_row[keep], img={k: v[keep] for k, v in s.img.items()}, train_ids=train_ids,
                   test_ids=test_ids, meta=dict(s.meta, subset=f'{n_train}x{per_modality}+{n_test}'))


def write_small_tree(layout, root, seed=0, **kw):
    "`small_synth_spec` rendered in the layout of `layout` ('sysu', 'regdb' or 'llcm')."
    from vireid_nb.data import synth
    spec = small_synth_spec(seed, **kw)
    if layout == 'regdb': return synth.write_regdb_layout(spec, root, n_per_modality=spec_per(spec), trials=1)
    return {'sysu': synth.write_sysu_layout, 'llcm': synth.write_llcm_layout}[layout](spec, root)


def spec_per(spec):
    "Images per (training identity, modality) of a `small_synth_spec`."
    return int(spec.meta['subset'].split('x')[1].split('+')[0])
