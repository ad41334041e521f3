"CAJ end to end: train.ipynb under papermill with `-p method caj`, its choices, and bad values."
import json, time
import pytest
import papermill as pm

from papermill_cli import NBS, papermill


def _run(args, tmp_path, name):
    out = tmp_path / name
    t0 = time.time()
    p = papermill(['train.ipynb', str(tmp_path / f'{name}.ipynb'), '-p', 'method', 'caj',
                                    '-p', 'preset', 'smoke', '-p', 'out_dir', str(out)] + args, cwd=NBS)
    assert p.returncode == 0, p.stderr[-3000:]
    print(f'caj smoke run {args}: {time.time() - t0:.1f} s')
    return json.loads((out / 'results.json').read_text()), json.loads((out / 'config.json').read_text()), out


def test_smoke(tmp_path):
    res, cfg, out = _run([], tmp_path, 'run')
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
                        '-p', 'erase_p', '0.3', '-p', 'epochs', '1', '-p', 'eval_trials', '1'], tmp_path, 'wrt')
    mp = cfg['method_params']
    assert (mp['triplet'], mp['joint'], mp['channel_space'], mp['erase_p']) == ('wrt', False, 'unit', 0.3)
    assert res['results'][0]['trials'] == 1


def test_bad_triplet_stops_with_allowed_values(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(NBS / 'train.ipynb'), str(tmp_path / 'out.ipynb'), progress_bar=False,
                            parameters=dict(method='caj', preset='smoke', triplet='hard', out_dir=str(tmp_path / 'x')))
    assert 'triplet' in str(e.value) and 'choose one of adp, wrt' in str(e.value)
    assert not (tmp_path / 'x' / 'history.csv').exists()      # stopped before training


@pytest.mark.parametrize('kw, message', [
    (dict(channel_space='hsv'), 'choose one of normalized, unit'),
    (dict(square=3), 'choose one of 0, 1'),
    (dict(joint='maybe'), 'choose True or False'),
    (dict(channel_p=2), 'in [0, 1]'),
    (dict(alpha=-1), 'it must be in [0, ∞]'),
])
def test_bad_values_in_process(kw, message):
    from vireid_nb.core import make_config, METHODS
    with pytest.raises(ValueError, match=None) as e:
        METHODS.get('caj').build_model(make_config('caj', 'synth', 'smoke', **kw), 3)
    assert message in str(e.value)


def test_adp_params_are_method_params():
    from vireid_nb.core import make_config
    cfg = make_config('caj', 'synth', 'smoke', alpha=2, adp_gamma=0.5, square=0)
    assert (cfg.method_params['alpha'], cfg.method_params['adp_gamma'], cfg.method_params['square']) == (2, 0.5, 0)
    assert cfg.gamma == 0.1          # the run's lr-decay `gamma` is untouched
