"""DEN end to end: the train notebook's cells (make_config, run_experiment) with `-p method den` and its choices. (Bad values, the loss, gradients
and augmentation alignment are checked for every method in test_method_contract.py.)"""
import csv, json, time

from papermill_cli import smoke_run
PROTOCOL_KEYS = {'protocol', 'n_ids', 'n_query', 'n_gallery', 'trials', 'rank1', 'rank5', 'rank10', 'rank20',
                 'mAP', 'mINP', 'per_trial'}


def _run(args, tmp_path, name, through_papermill=True):
    t0 = time.time()
    out = smoke_run('den', args, tmp_path / name, through_papermill)
    print(f'den smoke run {args}: {time.time() - t0:.1f} s')
    hist = list(csv.DictReader((out / 'history.csv').open()))
    return json.loads((out / 'results.json').read_text()), json.loads((out / 'config.json').read_text()), hist


def test_smoke(tmp_path):
    res, cfg, hist = _run([], tmp_path, 'run', through_papermill=False)   # papermill route: test_sweep.py
    assert (res['method'], res['dataset'], res['preset']) == ('den', 'synth', 'smoke')
    mp = cfg['method_params']
    assert (mp['ird_form'], mp['ht_margin'], mp['w_ird'], mp['m_pe'], mp['m_ne']) == ('push', 0.5, 0.25, 0.1, 0.5)
    assert [r['protocol'] for r in res['results']] == ['synth/ir2vis', 'synth/vis2ir']
    for r in res['results']:
        assert PROTOCOL_KEYS <= set(r)
        assert 0 <= r['rank1'] <= r['rank5'] <= r['rank10'] <= r['rank20'] <= 100
    assert len(hist) == 2                                      # 2 epochs
    for k in ('loss', 'id', 'ht', 'ird', 'pe', 'ne'):
        assert k in hist[0], k
    for row in hist:
        total = float(row['id']) + 0.5 * float(row['ht']) + 0.25 * float(row['ird'])
        assert abs(float(row['loss']) - total) < 1e-3 * max(1.0, total)


def test_alternative_form_and_no_ird(tmp_path):
    res, cfg, hist = _run(['-p', 'ird_form', 'pull', '-p', 'w_ird', '0', '-p', 'ht_mining', 'cross',
                           '-p', 'use_hg', 'False', '-p', 'epochs', '1', '-p', 'eval_trials', '1'], tmp_path, 'alt', False)
    mp = cfg['method_params']
    assert (mp['ird_form'], mp['w_ird'], mp['ht_mining'], mp['use_hg']) == ('pull', 0, 'cross', False)
    assert res['results'][0]['trials'] == 1
    row = hist[0]
    assert float(row['ird']) > 0                               # still logged ...
    assert abs(float(row['loss']) - float(row['id']) - 0.5 * float(row['ht'])) < 1e-3   # ... but not in the total
