<?php
declare(strict_types=1);

require __DIR__ . '/src/Router.php';

$router = new Router(__DIR__ . '/storage/cache');

$router->get('/', fn () => "Front page\n");
$router->get('/api/health', fn () => json_encode(['status' => 'ok']) . "\n");
$router->get('/api/hello/{name}', fn (string $name) => "Hello, " . htmlspecialchars($name) . "!\n");

$router->dispatch($_SERVER['REQUEST_METHOD'] ?? 'GET', $_SERVER['REQUEST_URI'] ?? '/');
