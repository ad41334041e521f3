"""The dashboards in a real browser: JupyterLab on 127.0.0.1 with a token, each dashboard notebook opened in headless
Debian Chromium (driven by Playwright, pointed at /usr/bin/chromium — no browser is ever downloaded) as a user opens it
to use it (the package's import and the notebook's "Use it" section; its unit cells run in nbdev_test), all cells run,
then: the plotly figure and the widgets rendered, clicking the dashboard's update button changed the figure, and no
figure title overlaps an image. A screenshot of each dashboard goes to $VIREID_SCREENSHOTS (default: pytest's tmp
folder). The notebooks open their example runs at the smoke preset here (VIREID_DASH_PRESET=smoke unless set; a user
gets the demo runs); the README's pictures are made by this test on the demo runs
(`VIREID_SCREENSHOTS=nbs/images VIREID_DASH_PRESET=demo pytest -q tests/test_dashboards_browser.py`).

Without Chromium the test is skipped with the command that installs it, unless VIREID_REQUIRE_BROWSER=1 (CI sets it)."""
import json, os, re, shutil, socket, subprocess, sys, time, urllib.request, secrets
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ['41_dash_augment', '42_dash_bands', '43_dash_embeddings', '44_dash_distances', '45_dash_retrieval',
              '46_dash_attention', '47_dash_compare', '48_dash_partmix']
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']

if not Path(CHROMIUM).exists():
    msg = 'Debian chromium is not installed (apt-get install -y chromium)'
    if os.environ.get('VIREID_REQUIRE_BROWSER') == '1': raise RuntimeError(msg)
    pytest.skip(msg, allow_module_level=True)
playwright = pytest.importorskip('playwright.sync_api')

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _use_it(name: str):
    """The dashboard notebook as a user opens it to use it: its title, the package's import, and its "Use it" section
    (the parameters cell and the call). The unit cells above that section run in `nbdev_test`; here only the dashboard."""
    import nbformat
    nb = nbformat.read(ROOT / 'nbs' / f'{name}.ipynb', as_version=4)
    mod = next(re.search(r'#\|\s*default_exp\s+(\S+)', c.source).group(1) for c in nb.cells if 'default_exp' in c.source)
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == 'markdown' and c.source.lstrip().startswith('## Use it'))
    imports = nbformat.v4.new_code_cell(f'from vireid_nb.dashboards.common import *\nfrom vireid_nb.{mod} import *')
    nb.cells = [nb.cells[0], imports, *nb.cells[start:]]
    return nb

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on the dashboards' \"Use it\" notebooks (autosave off: the repository's notebooks stay clean)."
    import nbformat
    root = tmp_path_factory.mktemp('lab')
    for name in DASHBOARDS: nbformat.write(_use_it(name), root / f'{name}.ipynb')
    settings = root / '.settings'
    for plugin, value in {'@jupyterlab/docmanager-extension/plugin': {'autosave': False},
                          '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false',
                                                                          'checkForUpdates': False}}.items():
        p = settings / f'{plugin}.jupyterlab-settings'; p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(root / 'lab.log', 'w')
    env = dict(os.environ)
    env.setdefault('VIREID_DASH_PRESET', 'smoke')         # the kernels' example runs: smoke, unless asked otherwise
    proc = subprocess.Popen(
        [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1',
         f'--ServerApp.port={port}', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
         f'--LabApp.user_settings_dir={settings}', f'--LabApp.workspaces_dir={root / ".ws"}']
        + (['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except Exception:
                if proc.poll() is not None: raise RuntimeError('jupyter lab exited:\n' + (root / 'lab.log').read_text())
                time.sleep(0.5)
        else: raise RuntimeError('jupyter lab did not answer in 60 s:\n' + (root / 'lab.log').read_text())
        yield dict(url=url, token=token, root=root)
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

@pytest.fixture(scope='module')
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()

FIGURE_STATE = """() => Array.from(document.querySelectorAll('.vireid-dash .js-plotly-plot'))
    .map(gd => JSON.stringify([gd.data, (gd.layout.annotations || []).map(a => a.text), gd.layout.title]))
    .join('|')"""

# every non-empty annotation (subplot title) whose box meets a drawn image's box, and how many images were drawn
OVERLAPS = """() => {
    const boxes = (gd, sel) => Array.from(gd.querySelectorAll(sel)).map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.width > 2 && r.height > 2);
    const out = {images: 0, overlaps: []};
    for (const gd of document.querySelectorAll('.vireid-dash .js-plotly-plot')) {
        const imgs = boxes(gd, 'image'), notes = boxes(gd, '.annotation-text-g').filter(([e]) => e.textContent.trim());
        out.images += imgs.length;
        for (const [a, ra] of notes) for (const [, rb] of imgs)
            if (ra.left < rb.right - 1 && rb.left < ra.right - 1 && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1)
                out.overlaps.push(a.textContent);
    }
    return out;
}"""
IMAGE_GRIDS = {'41_dash_augment', '42_dash_bands', '45_dash_retrieval', '46_dash_attention', '48_dash_partmix'}

def _shot_dir(tmp_path) -> Path:
    d = Path(os.environ.get('VIREID_SCREENSHOTS') or tmp_path)
    d.mkdir(parents=True, exist_ok=True); return d

def _wait_for_kernel(page):
    "Accept JupyterLab's kernel dialog if it comes, then wait until the notebook's kernel is idle."
    idle = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'
    page.wait_for_selector(f'.jp-Dialog .jp-mod-accept, {idle}', timeout=120_000)
    if page.locator('.jp-Dialog .jp-mod-accept').count(): page.locator('.jp-Dialog .jp-mod-accept').click()
    page.wait_for_selector(idle, timeout=120_000)
    page.wait_for_function("""() => /Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')""",
                           timeout=120_000)

def _shutdown_sessions(lab):
    "Stop the kernels the test started, so that the next notebook does not share the CPU with them."
    api = f'{lab["url"]}/api/sessions'
    hdr = {'Authorization': f'token {lab["token"]}'}
    for sess in json.load(urllib.request.urlopen(urllib.request.Request(api, headers=hdr), timeout=10)):
        urllib.request.urlopen(urllib.request.Request(f'{api}/{sess["id"]}', headers=hdr, method='DELETE'), timeout=30)

@pytest.mark.parametrize('name', DASHBOARDS)
def test_dashboard_in_browser(lab, browser, name, tmp_path):
    if name == '47_dash_compare':   # compare the example runs the other dashboards trained (not all of <project>/runs)
        import nbformat
        from vireid_nb.dashboards.common import example_run
        preset = os.environ.get('VIREID_DASH_PRESET', 'smoke')
        runs = [str(example_run(m, preset)) for m in ('agw', 'rfm')]
        nb = nbformat.read(lab['root'] / f'{name}.ipynb', as_version=4)
        next(c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])).source = f'run_dir = {runs!r}'
        nbformat.write(nb, lab['root'] / f'{name}.ipynb')
    page = browser.new_page(viewport={'width': 1500, 'height': 1500})
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    try:
        # a workspace of its own (reset), so that tabs of other notebooks are not restored beside this one
        page.goto(f'{lab["url"]}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={lab["token"]}')
        for attempt in range(3):                  # Run > Run All Cells; if no cell starts, reload the page and retry
            _wait_for_kernel(page)
            page.click('.lm-MenuBar-itemLabel:text-is("Run")')
            page.click('.lm-Menu-itemLabel:text-is("Run All Cells")')
            try:
                page.wait_for_function("""() => Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
                                              .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""", timeout=45_000)
                break
            except playwright.Error:
                if attempt == 2: raise
                page.reload()
        # the dashboard is the last cell's output: wait for its figure (the notebook may first train its example run),
        # or for a traceback, which stops Run All
        limit = int(os.environ.get('VIREID_BROWSER_TIMEOUT', 300)) * 1000
        error = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Traceback")'
        page.wait_for_selector(f'.vireid-dash .js-plotly-plot .main-svg, {error}', timeout=limit)
        if page.locator(error).count(): raise AssertionError(f'{name}: a cell raised:\n' + page.locator(error).first.inner_text())
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=limit)
        assert not page.locator(error).count(), f'{name}: a cell raised:\n' + page.locator(error).first.inner_text()
        dash = page.locator('.vireid-dash').last
        assert dash.locator('.widget-button, .widget-dropdown, .widget-slider').count() >= 2   # controls rendered
        assert dash.locator('.js-plotly-plot').count() >= 1
        assert '#b00' not in (dash.locator('.widget-html').last.inner_html() or '')              # no error shown
        dash.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        before = page.evaluate(FIGURE_STATE)
        assert before, f'{name}: no plotly data in the page'
        dash.locator('.vireid-update').first.click()
        page.wait_for_function(f'(b) => ({FIGURE_STATE})() !== b', arg=before, timeout=120_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)
        if name == '43_dash_embeddings':                            # hovering a point shows its image and ids
            thumb = dash.locator('.widget-image').first
            src = thumb.get_attribute('src')
            box = dash.locator('.scatterlayer .trace').nth(1).locator('.point').nth(3).bounding_box()
            page.mouse.move(box['x'] + box['width'] / 2 - 20, box['y'] + box['height'] / 2)   # plotly's hover layer
            page.mouse.move(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2, steps=5)  # sits above the point
            page.wait_for_function('([el, s]) => el.getAttribute("src") !== s', arg=[thumb.element_handle(), src],
                                   timeout=60_000)
            assert 'IR' in dash.locator('.widget-html').filter(has_text='cam').first.inner_text()
        page.wait_for_timeout(1500)                                 # let plotly finish drawing before the picture
        layout = page.evaluate(OVERLAPS)
        assert not layout['overlaps'], f'{name}: titles overlap images: {layout["overlaps"]}'
        if name in IMAGE_GRIDS: assert layout['images'] > 0, f'{name}: no images found for the overlap check'
        shot = _shot_dir(tmp_path) / f'{name}.png'
        dash.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        assert not [e for e in errors if 'plotly' in e.lower() or 'widget' in e.lower()], errors
    except Exception:
        page.screenshot(path=str(_shot_dir(tmp_path) / f'{name}-FAILED.png'), full_page=True)
        raise
    finally:
        page.close()
        _shutdown_sessions(lab)
