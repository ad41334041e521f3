"""MPANet and PartMix end to end: `-p method mpanet` / `-p method partmix` through the train notebook (papermill, as a
user runs it) on trees in each real layout and on the synthetic set, and every `-p mix` regulariser.
(Bad values, the loss, gradients and augmentation alignment are checked for every method in test_method_contract.py;
the blocks, losses, mixing and mining by the unit cells of nbs/26_method_mpanet.ipynb and nbs/27_method_partmix.ipynb.)"""
import pytest
import torch
from papermill_cli import smoke_run, read_run as _read
from vireid_nb.data import synth

BASE = ('id', 'cc', 'sid', 'ml', 'sep')
W = dict(id=1.0, cc=1.0, sid=0.5, ml=2.5, sep=0.5, cont=0.5, aid=0.5)


@pytest.fixture(scope='module')
def spec():
    return synth.synth_spec('tiny', seed=0)



def _check_total(row, terms):
    total = sum(W[k] * float(row[k]) for k in terms)
    assert abs(float(row['loss']) - total) < 1e-3 * max(1.0, total), (row, terms)


def test_mpanet_on_a_regdb_tree_through_papermill(tmp_path, spec):
    tree = synth.write_regdb_layout(spec, tmp_path / 'regdb')
    out = smoke_run('mpanet', ['-p', 'dataset', 'regdb', '-p', 'data_root', str(tree)], tmp_path / 'run')
    res, cfg, hist = _read(out)
    assert (res['method'], res['dataset']) == ('mpanet', 'regdb')
    assert [r['protocol'] for r in res['results']] == ['regdb/vis2ir', 'regdb/ir2vis']
    assert all(0 <= r['rank1'] <= r['rank20'] <= 100 and r['n_query'] > 0 for r in res['results'])
    assert (cfg['optimizer'], cfg['lr']) == ('adam', 3.5e-4)                      # the code's optimiser, every preset
    for row in hist:                                                              # Eq. 1–4 + L_sep, the code's weights
        _check_total(row, BASE)
        assert float(row['sep']) > 1e-4 and float(row['feat_zero']) == 0          # the part masks are alive
    sd = torch.load(out / 'model.pt', map_location='cpu', weights_only=True)
    sd = sd.get('model', sd)
    assert sd['mean_v'].shape == sd['classifier_v.weight'].shape                  # the mean classifiers are saved
    assert not torch.equal(sd['mean_v'], sd['classifier_v.weight'])               # ... and lag the live ones


def test_partmix_on_an_llcm_tree_through_papermill(tmp_path, spec):
    tree = synth.write_llcm_layout(spec, tmp_path / 'llcm')
    res, cfg, hist = _read(smoke_run('partmix', ['-p', 'dataset', 'llcm', '-p', 'data_root', str(tree), '-p', 'epochs', '3'],
                                     tmp_path / 'run'))
    assert (res['method'], res['dataset']) == ('partmix', 'llcm')
    assert [r['protocol'] for r in res['results']] == ['llcm/ir2vis', 'llcm/vis2ir']
    assert cfg['method_params']['mix'] == 'partmix' and cfg['epochs'] == 3
    # the warm-up is round(mix_start · epochs) = round(0.5) = 0 epochs at this length: every epoch mixes
    assert len(hist) == 3
    for row in hist:
        assert float(row['cont']) > 0 and float(row['aid']) > 0                   # logged from the first epoch
    _check_total(hist[-1], BASE + ('cont', 'aid'))


def test_partmix_warm_up_then_mixing_on_a_sysu_tree(tmp_path):
    from fake_trees import make_sysu
    tree = make_sysu(tmp_path / 'sysu', train=tuple(range(1, 9)), val=(9,), test=(10, 11, 12, 13), per_cam=4, missing=())
    args = ['-p', 'dataset', 'sysu', '-p', 'data_root', str(tree), '-p', 'epochs', '2', '-p', 'eval_trials', '1',
            '-p', 'mix_start', '0.5', '-p', 'mining', 'random', '-p', 'aid', 'soft', '-p', 'swap_parts', '3']
    res, cfg, hist = _read(smoke_run('partmix', args, tmp_path / 'run', False))
    assert [r['protocol'] for r in res['results']] == ['sysu/all', 'sysu/indoor']
    mp = cfg['method_params']
    assert (mp['mix_start'], mp['mining'], mp['aid'], mp['swap_parts']) == (0.5, 'random', 'soft', 3)
    _check_total(hist[0], BASE)                                                   # epoch 1: baseline only (logged)
    _check_total(hist[1], BASE + ('cont', 'aid'))                                 # epoch 2: every loss


@pytest.mark.parametrize('mix', ['mixup', 'manifold_mixup', 'cutmix', 'none'])
def test_each_compared_regulariser_trains_on_the_synthetic_set(tmp_path, mix):
    res, cfg, hist = _read(smoke_run('partmix', ['-p', 'mix', mix, '-p', 'epochs', '1', '-p', 'eval_trials', '1'],
                                     tmp_path / 'run', False))
    assert cfg['method_params']['mix'] == mix and res['dataset'] == 'synth'
    assert all(0 <= r['rank1'] <= 100 for r in res['results'])
    _check_total(hist[0], BASE + (() if mix == 'none' else ('aid',)))
    assert ('aid' in hist[0]) == (mix != 'none') and 'cont' not in hist[0]
