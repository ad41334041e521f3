"""DEEN end to end on trees in the real layouts: `-p method deen` through the train notebook (papermill, as a user runs
it) on LLCM, the RegDB variant (DEE after stage 2, no stage 4) on RegDB, and the ablation switches on SYSU-MM01.
(Bad values, the loss, gradients and augmentation alignment are checked for every method in test_method_contract.py;
the blocks and losses by the unit cells of nbs/25_method_deen.ipynb.)"""
import pytest
import torch
from papermill_cli import smoke_run, read_run as _read
from vireid_nb.data import synth


@pytest.fixture(scope='module')
def spec():
    return synth.synth_spec('tiny', seed=0)



def test_llcm_tree_through_papermill(tmp_path, spec):
    tree = synth.write_llcm_layout(spec, tmp_path / 'llcm')
    res, cfg, hist = _read(smoke_run('deen', ['-p', 'dataset', 'llcm', '-p', 'data_root', str(tree)], tmp_path / 'run'))
    assert (res['method'], res['dataset']) == ('deen', 'llcm')
    assert [r['protocol'] for r in res['results']] == ['llcm/ir2vis', 'llcm/vis2ir']
    assert all(0 <= r['rank1'] <= r['rank20'] <= 100 and r['n_query'] > 0 for r in res['results'])
    mp = cfg['method_params']
    assert (mp['dee_stage'], mp['stages'], mp['cpm_form'], mp['lambda_ort'], mp['test_feature']) == (3, 4, 'code', 0.01, 'all')
    for row in hist:                                          # Eq. 10 with the code's weights, every epoch
        total = float(row['id']) + float(row['tri']) + 0.8 * float(row['cpm']) + 0.01 * float(row['ort'])
        assert abs(float(row['loss']) - total) < 1e-3 * max(1.0, total)
        assert float(row['cpm']) > 0 and float(row['ort']) > 0


def test_regdb_tree_trains_the_regdb_variant(tmp_path, spec):
    tree = synth.write_regdb_layout(spec, tmp_path / 'regdb')
    out = smoke_run('deen', ['-p', 'dataset', 'regdb', '-p', 'data_root', str(tree)], tmp_path / 'run', False)
    res, cfg, _ = _read(out)
    assert [r['protocol'] for r in res['results']] == ['regdb/vis2ir', 'regdb/ir2vis']
    assert (cfg['method_params']['dee_stage'], cfg['method_params']['stages']) == (2, 3)
    sd = torch.load(out / 'model.pt', map_location='cpu', weights_only=True)
    sd = sd.get('model', sd)
    assert not any(k.startswith('backbone.layers.3') for k in sd)                 # stage 4 removed
    assert sd['dee.dilated.0.0.weight'].shape[1] == 128                           # DEE on stage 2's 128 channels (ResNet-18)
    assert sorted({k.split('.')[1] for k in sd if k.startswith('mfa.')}) == ['1', '2']   # no MFA3


def test_ablation_switches_on_a_sysu_tree(tmp_path):
    from fake_trees import make_sysu
    tree = make_sysu(tmp_path / 'sysu', train=tuple(range(1, 9)), val=(9,), test=(10, 11, 12, 13), per_cam=4, missing=())
    args = ['-p', 'dataset', 'sysu', '-p', 'data_root', str(tree), '-p', 'epochs', '1', '-p', 'eval_trials', '1',
            '-p', 'dee_stage', '1', '-p', 'branches', '4', '-p', 'aggregation', 'non_local', '-p', 'cpm_form', 'paper',
            '-p', 'ort', 'False', '-p', 'test_feature', 'bn', '-p', 'mfa_softmax', 'True']
    res, cfg, hist = _read(smoke_run('deen', args, tmp_path / 'run', False))
    mp = cfg['method_params']
    assert (mp['dee_stage'], mp['branches'], mp['aggregation'], mp['ort'], mp['test_feature']) == (1, 4, 'non_local', False, 'bn')
    assert [r['protocol'] for r in res['results']] == ['sysu/all', 'sysu/indoor']
    row = hist[0]
    assert float(row['ort']) > 0                                                   # logged, not trained
    assert abs(float(row['loss']) - float(row['id']) - float(row['tri']) - 0.8 * float(row['cpm'])) < 1e-3
