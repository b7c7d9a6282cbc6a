import os
BASE_DIR = os.path.dirname(os.path.dirname(__file__))
STATIC_ROOT = "/var/www/static"
