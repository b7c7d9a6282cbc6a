#!/bin/sh
# installs the service's dependencies from the ACME package index (see /etc/pip.conf)
set -e
pip config list
pip install --no-cache-dir -r requirements.txt
python -c "import acme_greeting; print('installed acme-greeting', acme_greeting.__version__)"
