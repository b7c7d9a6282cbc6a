<?php
declare(strict_types=1);

require __DIR__ . '/lib/guestbook.php';

session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;

$saved = guestbook_add(__DIR__ . '/uploads', 'visitor from ' . ($_SERVER['REMOTE_ADDR'] ?? 'unknown'));

header('Content-Type: text/plain; charset=utf-8');
echo "Guestbook says hello (PHP " . PHP_VERSION . ")\n";
echo "entry saved: " . ($saved ? 'yes' : 'no') . "\n";
echo "entries: " . count(guestbook_entries(__DIR__ . '/uploads')) . "\n";
echo "session visits: " . $_SESSION['visits'] . "\n";
