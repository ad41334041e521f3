"""README.md is generated from nbs/index.ipynb and must stay in step with it."""
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]


def test_readme_matches_index_notebook():
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(ROOT / 'nbs' / 'index.ipynb', as_version=4))
    readme = (ROOT / 'README.md').read_text()
    assert body.strip() == readme.strip(), (
        'README.md is out of step with nbs/index.ipynb: run '
        '`jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README`')


def test_readme_commands():
    readme = (ROOT / 'README.md').read_text()
    assert 'pip install -e ".[dev]"' in readme and 'papermill train.ipynb out.ipynb -p method agw' in readme
    test_cmd = 'nbdev_test --path nbs && pytest -q -n auto --dist loadfile tests'
    assert test_cmd in readme
    ci = (ROOT / '.ci' / 'run').read_text()
    assert 'pip install -e ".[dev]"' in ci and test_cmd in ci
