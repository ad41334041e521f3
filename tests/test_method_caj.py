"""CAJ end to end: train.ipynb under papermill with `-p method caj` and its choices. (Bad values, the loss, gradients
and augmentation alignment are checked for every method in test_method_contract.py.)"""
import json, time

from papermill_cli import smoke_run


def _run(args, tmp_path, name, through_papermill=True):
    t0 = time.time()
    out = smoke_run('caj', args, tmp_path / name, through_papermill)
    print(f'caj smoke run {args}: {time.time() - t0:.1f} s')
    return json.loads((out / 'results.json').read_text()), json.loads((out / 'config.json').read_text()), out


def test_smoke(tmp_path):
    res, cfg, out = _run([], tmp_path, 'run', through_papermill=False)   # papermill: test_sweep.py runs CAJ
    assert (res['method'], res['dataset'], res['preset']) == ('caj', 'synth', 'smoke')
    assert cfg['method_params']['triplet'] == 'adp' and cfg['method_params']['joint'] is True
    assert [r['protocol'] for r in res['results']] == ['synth/ir2vis', 'synth/vis2ir']
    for r in res['results']:
        assert 0 <= r['rank1'] <= r['rank5'] <= r['rank10'] <= r['rank20'] <= 100
    hist = (out / 'history.csv').read_text().splitlines()
    assert 'tri' in hist[0] and len(hist) == 3          # header + 2 epochs


def test_choices_accepted(tmp_path):
    # the AGW triplet, no extra visible copy, channel mixing on pixels, one epoch
    res, cfg, _ = _run(['-p', 'triplet', 'wrt', '-p', 'joint', 'False', '-p', 'channel_space', 'unit',
                        '-p', 'erase_p', '0.3', '-p', 'epochs', '1', '-p', 'eval_trials', '1'], tmp_path, 'wrt', False)
    mp = cfg['method_params']
    assert (mp['triplet'], mp['joint'], mp['channel_space'], mp['erase_p']) == ('wrt', False, 'unit', 0.3)
    assert res['results'][0]['trials'] == 1


def test_adp_params_are_method_params():
    from vireid_nb.core import make_config
    cfg = make_config('caj', 'synth', 'smoke', alpha=2, adp_gamma=0.5, square=0)
    assert (cfg.method_params['alpha'], cfg.method_params['adp_gamma'], cfg.method_params['square']) == (2, 0.5, 0)
    assert cfg.gamma == 0.1          # the run's lr-decay `gamma` is untouched
