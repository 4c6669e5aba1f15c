"""Create the project's virtual environment, even where Debian's python3 lacks ensurepip."""

import os
import subprocess
import sys
import venv


def main(path):
    if os.path.exists(os.path.join(path, "bin", "python")):
        return
    try:
        venv.EnvBuilder(with_pip=True).create(path)
        return
    except (subprocess.CalledProcessError, OSError) as exc:
        # Debian ships ensurepip in a separate package (python3-venv); fall back to a
        # pip-less venv and borrow pip from the system or from its own wheel.
        print(f"venv with pip failed ({exc}); retrying without pip", file=sys.stderr)
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    py = os.path.join(path, "bin", "python")
    try:
        subprocess.check_call(
            [sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL
        )
        subprocess.check_call([sys.executable, "-m", "pip", "--python", py, "install", "pip"])
        return
    except (subprocess.CalledProcessError, OSError):
        pass
    import tempfile
    import urllib.request

    url = "https://bootstrap.pypa.io/get-pip.py"
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "get-pip.py")
        urllib.request.urlretrieve(url, script)
        subprocess.check_call([py, script])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".venv")
