"""Run the Khronos glTF validator (npm `gltf-validator`) on a GLB and return its JSON report.

The validator is a JavaScript library: `make install-test` installs it with
`npm install --prefix .venv/node gltf-validator`, and it runs here under `node`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import TalkstyleError

NODE_MODULES = Path(sys.prefix) / "node" / "node_modules"

_SCRIPT = """
const fs = require('fs');
const validator = require('gltf-validator');
const bytes = new Uint8Array(fs.readFileSync(process.argv[1]));
validator.validateBytes(bytes, {maxIssues: 100})
  .then(report => process.stdout.write(JSON.stringify(report)))
  .catch(err => { process.stderr.write(String(err)); process.exit(1); });
"""


def available() -> bool:
    return shutil.which("node") is not None and (NODE_MODULES / "gltf-validator").is_dir()


def validate(path: str | Path) -> dict[str, Any]:
    """The validator's report: report['issues']['numErrors'], ['numWarnings'], ['messages'], ['info']."""
    if not available():
        raise TalkstyleError(f"glTF validator not installed: run `npm install --prefix "
                             f"{NODE_MODULES.parent} gltf-validator` (needs node)")
    result = subprocess.run(["node", "-e", _SCRIPT, str(path)], capture_output=True, text=True,
                            env={**os.environ, "NODE_PATH": str(NODE_MODULES)}, timeout=120)
    if result.returncode != 0:
        raise TalkstyleError(f"glTF validator failed on {path}: {result.stderr.strip()[:200]}")
    return json.loads(result.stdout)

