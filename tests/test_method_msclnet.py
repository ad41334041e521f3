"""MSCLNet end to end: `-p method msclnet` through the train notebook (papermill, as a user runs it) on the synthetic set,
and the notebook's run (in process) on trees in each real layout with Table 1 rows and the printed (literal) forms of
the defective equations. (The defaults on every layout: test_small_datasets.py; bad values, the loss, gradients and
augmentation alignment are checked for every method in test_method_contract.py;
the Mogrifier cell, the synergy module and each loss on hand-computed examples by the unit cells of
nbs/28_method_msclnet.ipynb.)"""
import math
import torch
from papermill_cli import smoke_run, read_run
from vireid_nb.data import synth
from vireid_nb.methods.msclnet import TABLE1

W = {'id': 1.0, 'tri': 1.0, 'syn': 1.0, 'div': 0.5, 't': 1.25, 'local': 0.8, 'global': 1.5, 'sub': 1.0, 'intra': 1.0,
     'inter': 1.0}


def _check(row, terms):
    "The logged total is the weighted sum of exactly `terms`, each finite; the backbone features are alive."
    assert {k for k in W if k in row} == set(terms), (list(row), terms)
    vals = {k: float(row[k]) for k in terms}
    assert all(math.isfinite(v) for v in vals.values()), vals
    total = sum(W[k] * v for k, v in vals.items())
    assert abs(float(row['loss']) - total) < 1e-3 * max(1.0, abs(total)), (row, terms)
    assert float(row['feat_zero']) == 0 and float(row['feat_norm']) > 0


def _terms(row_name):
    return ('id', 'tri') + TABLE1[row_name]


def test_msclnet_on_the_synthetic_set_through_papermill(tmp_path):
    out = smoke_run('msclnet', [], tmp_path / 'run')
    res, cfg, hist = read_run(out)
    assert (res['method'], res['dataset']) == ('msclnet', 'synth')
    assert all(0 <= r['rank1'] <= r['rank20'] <= 100 and r['n_query'] > 0 for r in res['results'])
    mp = cfg['method_params']
    assert (mp['ablation'], mp['local_form'], mp['div_form'], mp['ca_space']) == ('all', 'corrected', 'capped', 'normalized')
    for row in hist:
        _check(row, _terms('all'))
        assert -2.0 <= float(row['div']) <= 0 and -8.0 <= float(row['inter']) <= 0   # the corrected forms are bounded
    sd = torch.load(out / 'model.pt', map_location='cpu', weights_only=True)
    sd = sd.get('model', sd)
    assert any(k.startswith('synergy.cell.Q.') for k in sd)                       # the synergy module trained and saved


def test_msclnet_on_a_sysu_tree_with_table1_rows(tmp_path):
    from fake_trees import make_sysu
    tree = make_sysu(tmp_path / 'sysu', train=tuple(range(1, 9)), val=(9,), test=(10, 11, 12, 13), per_cam=3, missing=())
    for row_name in ('B', 'B+MS+CA'):
        args = ['-p', 'dataset', 'sysu', '-p', 'data_root', str(tree), '-p', 'epochs', '1', '-p', 'eval_trials', '1',
                '-p', 'ablation', row_name]
        res, cfg, hist = read_run(smoke_run('msclnet', args, tmp_path / row_name, False))
        assert [r['protocol'] for r in res['results']] == ['sysu/all', 'sysu/indoor']
        _check(hist[0], _terms(row_name))
    assert float(hist[0]['sub']) > 0                                            # several cameras per identity: sub-classes


def test_msclnet_on_regdb_and_llcm_trees_with_the_printed_equations(tmp_path):
    spec = synth.synth_spec('tiny', seed=0)
    literal = ['-p', 'div_form', 'literal', '-p', 'local_form', 'literal', '-p', 'ca_space', 'raw']
    for ds, write, extra in (('regdb', synth.write_regdb_layout, ['-p', 'synergy_tokens', 'global', '-p', 'mog_rank', '8']),
                             ('llcm', synth.write_llcm_layout, ['-p', 'specific_stages', '1', '-p', 'in_pool', 'gem'])):
        tree = write(spec, tmp_path / ds)
        args = ['-p', 'dataset', ds, '-p', 'data_root', str(tree), '-p', 'epochs', '1', '-p', 'eval_trials', '1',
                *literal, *extra]
        res, cfg, hist = read_run(smoke_run('msclnet', args, tmp_path / f'run-{ds}', False))
        assert res['dataset'] == ds and len(res['results']) == 2
        _check(hist[0], _terms('all'))
        assert cfg['method_params']['local_form'] == 'literal'
        n = 1 if ds == 'regdb' else 6                                           # global tokens: one; stripes: six
        assert n - 1e-3 <= float(hist[0]['local']) <= 1.5 * n + 1e-3           # the printed form lies in [1, 1.5] per token
