<?php
header('Content-Type: text/plain');
echo "apache on port " . getenv('PORT') . ", php " . PHP_MAJOR_VERSION . "\n";
