<?php
// a front controller: routes through mod_rewrite, caches in storage/, and reports the native
// libraries the app's extensions would load (libpng for gd, oniguruma for mbstring)
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
file_put_contents(__DIR__ . '/storage/cache/last', $path);
$libs = [];
foreach (['libpng16.so.16', 'libonig.so.5'] as $lib) {
    $libs[] = (glob("/usr/lib/*/$lib") ? 'yes' : 'no') . ":$lib";
}
$compiler = is_executable('/usr/bin/git') ? 'git' : 'no-git';
header('X-App: composer-style');
echo "php route $path " . implode(' ', $libs) . "\n";
