"""End-to-end: bench.ipynb under papermill at the smoke preset (CPU in CI), and its refusal of a bad method name."""
import json, math, time
import pytest
import papermill as pm
import torch

from papermill_cli import NBS, papermill

KEYS = ('train_img_s', 'data_img_s', 'official_data_img_s', 'flops_per_img', 'peak_mem_bytes', 'eval_s')


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    "One smoke benchmark of every method, shared by the tests below: (bench.json, its folder, the executed notebook)."
    d = tmp_path_factory.mktemp('bench')
    t0 = time.time()
    p = papermill(['bench.ipynb', d / 'out.ipynb', '-p', 'preset', 'smoke', '-p', 'out_dir', d / 'b'])
    assert p.returncode == 0, p.stderr[-3000:]
    print(f'smoke benchmark: {time.time() - t0:.0f} s')
    return json.loads((d / 'b' / 'bench.json').read_text()), d / 'b', json.loads((d / 'out.ipynb').read_text())


def test_every_method_every_number(smoke):
    import vireid_nb.methods  # noqa: F401
    from vireid_nb.core import METHODS
    res, out, _ = smoke
    assert set(res) == {'device', 'preset', 'torch', 'methods'}
    assert res['preset'] == 'smoke' and res['torch'] == torch.__version__ and isinstance(res['device'], str)
    if not torch.cuda.is_available():
        assert res['device'].endswith(f'({torch.get_num_threads()} threads)')
    assert set(res['methods']) == set(METHODS)
    for name, r in res['methods'].items():
        for k in KEYS:
            assert isinstance(r[k], (int, float)) and math.isfinite(r[k]) and r[k] > 0, (name, k, r[k])
    assert sorted(p.name for p in out.iterdir()) == ['bench.json']          # written atomically: no temporary left


def test_numbers_agree_with_each_other(smoke, tmp_path):
    from vireid_nb.core import make_config
    from vireid_nb.engine import Experiment
    from vireid_nb.evaluate import scored_records
    res, _, _ = smoke
    cfg = make_config('agw', 'synth', 'smoke', pretrained=None, out_dir=str(tmp_path))
    exp = Experiment(cfg, verbose=False, claim=False)
    n_test = len(scored_records(exp.ds.protocols))
    # hand estimate of a smoke model's training FLOPs per image through it: ResNet-18 is 1.82 GMACs at 224x224, 0.41 of
    # them in stage 4; the re-ID convention's last stride 1 makes stage 4 four times larger (3.05 GMACs); scaled to
    # 64x32 pixels, 2 FLOPs per multiply-add, and the backward pass costs about twice the forward: x3
    # DEEN runs stage 4 on its three embeddings of every image (DEE after stage 3): three times that stage's share
    est_of = lambda stage4_copies: (1.82e9 - 0.41e9 + stage4_copies * 4 * 0.41e9) * (64 * 32) / (224 * 224) * 2 * 3
    for name, r in res['methods'].items():
        est = est_of(3 if name == 'deen' else 1)
        assert r['batch'] == 2 * 4 * 2 and r['img_size'] == [64, 32] and r['backbone'] == 'resnet18', name
        assert r['model_batch'] >= r['batch'], name
        per_model_img = r['flops_per_img'] * r['batch'] / r['model_batch']
        assert est / 1.3 < per_model_img < est * 1.3, (name, per_model_img, est)
        assert r['train_img_s'] == pytest.approx(r['batch'] / r['step_s'], rel=1e-6), name
        assert r['data_speedup'] == pytest.approx(r['data_img_s'] / r['official_data_img_s'], rel=1e-6), name
        assert r['n_test_images'] == n_test, name
        assert r['image_store'] == exp.store.where and r['cache_bytes'] == exp.store.nbytes, name
        if torch.cuda.is_available():
            assert r['peak_mem_kind'] == 'cuda_allocated' and r['amp_dtype'] in ('bfloat16', 'float16'), name
        else:   # the process's resident set: the interpreter, torch and a ResNet-18 at least; no GPU peak to compare with
            assert r['peak_mem_kind'] in ('rss_peak', 'rss_peak_process') and 100e6 < r['peak_mem_bytes'] < 64e9, name
            assert r['peak_fraction'] is None and r['amp_dtype'] is None, name
        assert (r['warmup_steps'], r['timed_steps'], r['data_batches'], r['workers']) == (1, 2, 4, 2), name
    assert res['methods']['caj']['model_batch'] == 3 * 4 * 2        # CAJ's joint mode: a second view of each visible image


def test_the_report_shows_the_table(smoke):
    res, _, nb = smoke
    html = ''.join(''.join(o.get('data', {}).get('text/html', '')) for c in nb['cells'] for o in c.get('outputs', []))
    assert 'official img/s' in html and all(f'<th>{m}</th>' in html for m in res['methods'])
    printed = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []))
    assert all(f'{m}: train ' in printed for m in res['methods']) and 'whole benchmark:' in printed


def test_bad_method_stops_at_once(tmp_path):
    t0 = time.time()
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(NBS / 'bench.ipynb'), str(tmp_path / 'out.ipynb'), progress_bar=False,
                            parameters=dict(methods='agw,agww', preset='smoke', out_dir=str(tmp_path / 'b')))
    import vireid_nb.methods  # noqa: F401
    from vireid_nb.core import METHODS
    assert "unknown method(s) ['agww']" in str(e.value) and f"valid methods: {', '.join(sorted(METHODS))}" in str(e.value)
    assert e.value.exec_count <= 3                      # parameters, papermill's injected ones, the plan: nothing built
    assert not (tmp_path / 'b').exists()
    assert time.time() - t0 < 60
