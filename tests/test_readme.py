"""The README's two commands exist and CI runs exactly the README's test command."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = [line for block in _bash_blocks(readme) for line in block.splitlines()]
    test_commands = [c for c in commands if "pytest" in c and "install" in c]
    assert len(test_commands) >= 1
    ci_lines = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert test_commands[0] in ci_lines


def test_readme_demo_command_installs_and_runs_the_demo():
    readme = (ROOT / "README.md").read_text()
    commands = [line for block in _bash_blocks(readme) for line in block.splitlines()]
    demo = [c for c in commands if c.endswith("rnnzoo demo") and "install" in c]
    assert demo, "README must give one command that installs and runs `rnnzoo demo`"
