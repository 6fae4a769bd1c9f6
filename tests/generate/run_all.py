"""Run every fixture generator in this folder (needs TensorFlow)."""

import glob
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
for script in sorted(glob.glob(os.path.join(here, "gen_*.py"))):
    print("==", os.path.basename(script), flush=True)
    subprocess.run([sys.executable, script], check=True)
