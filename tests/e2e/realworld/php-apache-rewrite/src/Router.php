<?php
declare(strict_types=1);

final class Router
{
    /** @var array<string, array<string, callable>> */
    private array $routes = [];

    public function __construct(private string $cacheDir)
    {
    }

    public function get(string $pattern, callable $handler): void
    {
        $this->routes['GET'][$pattern] = $handler;
    }

    public function dispatch(string $method, string $uri): void
    {
        $path = rawurldecode(parse_url($uri, PHP_URL_PATH) ?: '/');
        $cached = $this->compiled();
        foreach ($this->routes[$method] ?? [] as $pattern => $handler) {
            if (preg_match($cached[$pattern], $path, $m)) {
                $args = array_filter($m, 'is_string', ARRAY_FILTER_USE_KEY);
                header('Content-Type: text/plain; charset=utf-8');
                header('X-Route-Cache: ' . (is_file($this->cacheFile()) ? 'warm' : 'cold'));
                echo $handler(...array_values($args));
                return;
            }
        }
        http_response_code(404);
        echo "Not found: $path\n";
    }

    private function cacheFile(): string
    {
        return $this->cacheDir . '/routes.json';
    }

    /** compile the patterns to regexes once, and cache them on disk (like a framework's route cache) */
    private function compiled(): array
    {
        $file = $this->cacheFile();
        if (is_file($file)) {
            return json_decode((string) file_get_contents($file), true);
        }
        $out = [];
        foreach ($this->routes as $routes) {
            foreach (array_keys($routes) as $pattern) {
                $out[$pattern] = '#^' . preg_replace('#\{(\w+)\}#', '(?P<$1>[^/]+)', $pattern) . '$#';
            }
        }
        if (file_put_contents($file, json_encode($out), LOCK_EX) === false) {
            throw new RuntimeException("cannot write the route cache $file");
        }
        return $out;
    }
}
