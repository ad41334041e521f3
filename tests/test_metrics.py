"""vireid_nb.metrics against a straightforward per-query port of the community evaluation code (AGW / DEEN)."""
import numpy as np
import pytest
import torch

from vireid_nb.metrics import eval_sysu, eval_regdb, eval_llcm


def _community(distmat, q_pids, g_pids, q_camids, g_camids, max_rank, rule):
    """Port of the community `eval_sysu` / `eval_llcm` / `eval_regdb` loop. Differences from the original:
    stable argsort, and curves padded to `max_rank` (the original shortens `max_rank` to the gallery size
    and breaks on ragged collapsed curves)."""
    indices = np.argsort(distmat, axis=1, kind='stable')
    pred_label = g_pids[indices]
    matches = (g_pids[indices] == q_pids[:, np.newaxis]).astype(np.int32)
    all_cmc, all_AP, all_INP, num_valid_q = [], [], [], 0.
    for q_idx in range(len(q_pids)):
        q_pid, q_camid = q_pids[q_idx], q_camids[q_idx]
        order = indices[q_idx]
        if rule == 'sysu': remove = (q_camid == 3) & (g_camids[order] == 2)
        elif rule == 'llcm': remove = (g_pids[order] == q_pid) & (g_camids[order] == q_camid)
        else: remove = np.zeros(len(order), bool)
        keep = np.invert(remove)
        orig_cmc = matches[q_idx][keep]
        if not np.any(orig_cmc): continue
        if rule in ('sysu', 'llcm'):
            new_cmc = pred_label[q_idx][keep]
            new_index = np.unique(new_cmc, return_index=True)[1]
            new_cmc = np.array([new_cmc[index] for index in sorted(new_index)])
            cmc = (new_cmc == q_pid).astype(np.int32).cumsum()
        else:
            cmc = orig_cmc.cumsum()
        cmc[cmc > 1] = 1
        cmc = np.concatenate([cmc, np.full(max(0, max_rank - len(cmc)), cmc[-1])])
        all_cmc.append(cmc[:max_rank])
        c = orig_cmc.cumsum()
        pos_max_idx = np.max(np.where(orig_cmc == 1))
        all_INP.append(c[pos_max_idx] / (pos_max_idx + 1.0))
        num_valid_q += 1.
        tmp_cmc = np.asarray([x / (i + 1.) for i, x in enumerate(c)]) * orig_cmc
        all_AP.append(tmp_cmc.sum() / orig_cmc.sum())
    assert num_valid_q > 0
    return np.asarray(all_cmc, np.float64).sum(0) / num_valid_q, np.mean(all_AP), np.mean(all_INP)


def _case(seed, Q=120, G=70, n_ids=20):
    rng = np.random.default_rng(seed)
    d = rng.random((Q, G))
    q_pids = rng.integers(0, n_ids + 4, Q)          # a few identities absent from the gallery
    g_pids = rng.integers(0, n_ids, G)
    return rng, d, q_pids, g_pids


def _check(got, ref, max_rank):
    cmc, mAP, mINP = got
    assert isinstance(cmc, np.ndarray) and cmc.shape == (max_rank,)
    assert isinstance(mAP, float) and isinstance(mINP, float)
    np.testing.assert_allclose(cmc, ref[0], atol=1e-9)
    assert mAP == pytest.approx(ref[1], abs=1e-9) and mINP == pytest.approx(ref[2], abs=1e-9)
    assert 0 <= mINP <= 1 and 0 <= mAP <= 1 and np.all(np.diff(cmc) >= 0) and 0 <= cmc[0] and cmc[-1] <= 1


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('G,max_rank', [(70, 20), (9, 20), (70, 5)])
def test_sysu(seed, G, max_rank):
    rng, d, qp, gp = _case(seed, G=G)
    qc, gc = rng.choice([3, 6], len(qp)), rng.integers(1, 7, G)
    _check(eval_sysu(d, qp, gp, qc, gc, max_rank), _community(d, qp, gp, qc, gc, max_rank, 'sysu'), max_rank)


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('G,max_rank', [(70, 20), (9, 20)])
def test_llcm(seed, G, max_rank):
    rng, d, qp, gp = _case(seed, G=G)
    qc, gc = rng.integers(1, 4, len(qp)), rng.integers(1, 4, G)
    _check(eval_llcm(d, qp, gp, qc, gc, max_rank), _community(d, qp, gp, qc, gc, max_rank, 'llcm'), max_rank)


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('G,max_rank', [(70, 20), (9, 20)])
def test_regdb(seed, G, max_rank):
    rng, d, qp, gp = _case(seed, G=G)
    ones = np.ones(len(qp)), np.ones(G)
    _check(eval_regdb(d, qp, gp, max_rank), _community(d, qp, gp, *ones, max_rank, 'regdb'), max_rank)


def test_sysu_junk_changes_result():
    "Camera-3 queries must ignore camera 2: moving all queries to camera 6 changes the score."
    rng, d, qp, gp = _case(5)
    gc = rng.integers(1, 7, len(gp))
    a = eval_sysu(d, qp, gp, np.full(len(qp), 3), gc)
    b = eval_sysu(d, qp, gp, np.full(len(qp), 6), gc)
    assert a[1] != b[1]


def test_torch_and_numpy_agree():
    rng, d, qp, gp = _case(7)
    qc, gc = rng.choice([3, 6], len(qp)), rng.integers(1, 7, len(gp))
    T = torch.as_tensor
    for f, args in [(eval_sysu, (d, qp, gp, qc, gc)), (eval_llcm, (d, qp, gp, qc, gc)), (eval_regdb, (d, qp, gp))]:
        a, b = f(*args), f(*map(T, args))
        c = f(T(d).float(), *args[1:])               # float32 distances, as a model would produce
        np.testing.assert_allclose(a[0], b[0]); assert (a[1], a[2]) == (b[1], b[2])
        np.testing.assert_allclose(a[0], c[0]); assert a[1] == pytest.approx(c[1]) and a[2] == pytest.approx(c[2])


def test_no_valid_query_raises():
    _, d, _, gp = _case(0)
    qp = np.full(d.shape[0], 999)                     # identity absent from the gallery
    with pytest.raises(ValueError, match='no valid query'): eval_regdb(d, qp, gp)
    with pytest.raises(ValueError, match='no valid query'): eval_sysu(d, qp, gp, np.full(len(qp), 3), np.ones(len(gp)))
    # LLCM: the only true matches share the query's camera, so all are junk
    qp, gp = np.array([1, 2]), np.array([1, 2, 1])
    with pytest.raises(ValueError, match='no valid query'):
        eval_llcm(np.random.rand(2, 3), qp, gp, np.array([1, 1]), np.array([1, 1, 1]))
